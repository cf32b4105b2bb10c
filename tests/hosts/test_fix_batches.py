"""--fix-batch on three disposable containers, the first of them unfixable: with
`--fix-batch 1 --max-fail-percentage 0` the canary's fix fails, and the other two hosts'
files are left byte for byte as they were, their checks reported "fix held back".
Serially and on two xdist workers, where the canary and the next host are checked side by
side and the next host's fix has to wait for the canary's verdict.

Needs three containers, as the tier boots by default (HOSTKIT_CONTAINERS).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hosts import compliance
from tests.hosts.conftest import CONTAINERS

pytestmark = [
    pytest.mark.hosts,
    pytest.mark.skipif(CONTAINERS < 3, reason="needs three containers: set HOSTKIT_CONTAINERS=3"),
]

ROOT = Path(__file__).resolve().parents[2]
SETTING = "/etc/hostkit-batch.conf"

# The unfixable host has a directory where the setting file belongs: its check fails, and
# the fix that would write the file raises.
SUITE = f"""
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

PATH = {SETTING!r}

@remediation(strategy="configure", disruption="low")
def write_setting(target):
    return files.write_file(target.conn, PATH, "setting=on\\n")

@check("t.batch-setting", "the batch setting is on", fix=write_setting)
def test_batch_setting(conn):
    res = conn.run("cat -- %s", PATH)
    assert res.ok and res.stdout == "setting=on\\n", "the batch setting is not on"
"""


def digest(conn) -> str:
    return conn.run("sha256sum -- %s || true", SETTING).stdout.strip()


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_an_unfixable_canary_leaves_the_other_hosts_untouched(containers, tmp_path, workers):
    canary, *rest = containers[:3]
    with canary.connect() as conn:
        conn.run("rm -rf -- %s && mkdir -- %s", SETTING, SETTING, sudo=True).check()
    for host in rest:
        with host.connect() as conn:
            conn.run("printf 'setting=off\\n' > %s", SETTING, sudo=True).check()
    before = {}
    for host in rest:
        with host.connect() as conn:
            before[host.spec] = digest(conn)
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_batch.py").write_text(SUITE)
    report = tmp_path / "batch.xml"
    opts = canary.connect_options  # one fleet: one key and one known_hosts
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(suite),
            "-p",
            "no:cacheprovider",
            "-q",
            f"--hosts={','.join(h.spec for h in (canary, *rest))}",
            f"--known-hosts={opts['known_hosts']}",
            f"--ssh-identity-file={opts['identity_file']}",
            f"--junitxml={report}",
            "--fix",
            "--fix-batch",
            "1",
            "--max-fail-percentage",
            "0",
            *workers,
        ],
        cwd=suite,
        # This checkout's kit, whichever one is installed.
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert report.exists(), proc.stdout + proc.stderr
    run = compliance.read(report, proc.returncode, proc.stdout + proc.stderr)
    assert run.ret == 1, run.output
    assert run.outcome_of(f"test_batch_setting[{canary.spec}") == {"error"}, run.cases
    for host in rest:
        assert run.outcome_of(f"test_batch_setting[{host.spec}") == {"failed"}, run.cases
        with host.connect() as conn:
            assert digest(conn) == before[host.spec]
    assert "fixes held back" in run.output
    line = "fix held back: wave 1 exceeded --max-fail-percentage"
    assert run.output.count(line) >= len(rest), run.output
