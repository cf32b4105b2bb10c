"""The counting plugin reports from every process of a run, xdist workers included."""

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def test_every_xdist_worker_writes_its_counts(tmp_path):
    (tmp_path / "test_one.py").write_text(
        "import paramiko\n\n"
        "def test_a():\n    paramiko.Transport.open_channel\n\n"
        "def test_b():\n    pass\n"
    )
    counts = tmp_path / "counts"
    counts.mkdir()
    env = dict(os.environ, HKB_COUNTS=str(counts), PYTHONPATH=str(HERE))
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "counting", "-p", "no:hostkit", "-n", "2",
         "-p", "no:cacheprovider", "-q", str(tmp_path)],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-2000:]
    files = sorted(counts.glob("*.json"))
    # The controller and both workers, each under its own pid.
    assert len(files) == 3, [f.name for f in files]
    for f in files:
        assert set(json.loads(f.read_text())) == {"counts", "seconds"}
