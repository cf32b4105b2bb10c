"""What one xdist worker costs before it runs its first test: CPU and modules loaded.

    python benchmarks/worker_startup.py [--workers 4] [--rounds 5] [--suite hostkit]

Runs a read-only suite with `-n N` against `local://` (no root needed, no ssh host, so a
worker has no reason to load paramiko) and takes, in every worker, its own CPU (user +
system of the worker process alone) when its collection ends and when its first test
begins (`benchmarks/workercpu.py`). Both from compiled bytecode, as run.py does. Prints
the median over rounds of the per-worker mean, and the modules of ONLY_SOME_RUNS that a
worker had loaded by then.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from benchmarks.run import PYCACHE, SUITES  # noqa: E402

# Loaded by a read-only run's worker only if that run needs them: ssh hosts, templates
# and reports, profiles/inventories/waivers, property tests, containerd edits, the fix
# flow and the runner's write operations, the report writers.
ONLY_SOME_RUNS = (
    "paramiko",
    "jinja2",
    "yaml",
    "hypothesis",
    "tomlkit",
    "kit.edits",
    "kit.reports",
    "kit.report",
    "kit.runner.journal",
    "kit.runner.hostlock",
    "kit.plugin.fix",
    "kit.plugin.fixentry",
    "kit.plugin.fixhost",
    "remediations",
)


@dataclass
class Round:
    wall: float
    collected: list[float]  # CPU s of each worker when its collection ended
    first_test: list[float]  # CPU s of each worker that ran a test, at its first
    loaded: set[str]  # ONLY_SOME_RUNS modules any worker had loaded at its first test


def argv(suite: str, workers: int) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "-c", str(HERE / "pytest.ini"), "--rootdir", str(HERE),
        str(SUITES[suite]["hostkit"]), "-q", "-p", "workercpu", "-n", str(workers),
        "--hosts=local://",
    ]  # fmt: skip


def env(out: Path) -> dict[str, str]:
    e = dict(os.environ, HKB_WORKERS=str(out))
    e["PYTHONPATH"] = os.pathsep.join([str(HERE), str(HERE.parent), e.get("PYTHONPATH", "")])
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    e["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    return e


def one_round(suite: str, workers: int) -> Round:
    with tempfile.TemporaryDirectory(prefix="hkb-workers-") as tmp:
        out = Path(tmp)
        started = time.perf_counter()
        done = subprocess.run(argv(suite, workers), env=env(out), cwd=HERE,
                              capture_output=True, text=True, timeout=600)  # fmt: skip
        wall = time.perf_counter() - started
        files = sorted(out.glob("gw*.json"))
        if done.returncode not in (0, 1) or len(files) != workers:
            raise SystemExit(f"pytest -n {workers} failed:\n{done.stdout[-3000:]}{done.stderr}")
        taken = [json.loads(f.read_text()) for f in files]
    collected = [t["collected"]["cpu"] for t in taken]
    first = [t["first_test"]["cpu"] for t in taken if "first_test" in t]
    loaded = {
        name
        for t in taken
        for m in t.get("first_test", t["collected"])["modules"]
        for name in ONLY_SOME_RUNS
        if m == name or m.startswith(name + ".")
    }
    return Round(wall, collected, first, loaded)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--suite", choices=["hostkit", "plain"], default="hostkit")
    ap.add_argument("--out", type=Path, help="also write the figures as a markdown table")
    args = ap.parse_args()
    one_round(args.suite, args.workers)  # warms the bytecode cache; not counted
    rounds = [one_round(args.suite, args.workers) for _ in range(args.rounds)]
    collected = statistics.median(statistics.mean(r.collected) for r in rounds)
    first = statistics.median(statistics.mean(r.first_test) for r in rounds if r.first_test)
    loaded = sorted(set().union(*(r.loaded for r in rounds)))
    load = os.getloadavg()[0]
    wall = statistics.median(r.wall for r in rounds)
    print(
        f"suite {args.suite}, -n {args.workers}, local://, {args.rounds} rounds, load "
        f"{load:.1f}: CPU per worker at the end of its collection "
        f"{collected:.3f} s, at its first test {first:.3f} s (median of the per-round mean); "
        f"wall {wall:.2f} s; loaded of ONLY_SOME_RUNS: {', '.join(loaded) or 'none'}"
    )
    if args.out:
        args.out.write_text(
            "# What an xdist worker costs before its first test\n\n"
            f"`python benchmarks/worker_startup.py {shlex.join(sys.argv[1:])}` on "
            f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
            f"1-minute load average {load:.1f} at the end. Suite {args.suite} against "
            f"local://, -n {args.workers}; each worker's own CPU (user + system), the median "
            f"over {args.rounds} rounds of the mean over workers.\n\n"
            "| workers | suite | CPU s per worker at collection end | CPU s per worker at first "
            "test | wall s |\n|---|---|---|---|---|\n"
            f"| {args.workers} | {args.suite} | {collected:.3f} | {first:.3f} | {wall:.2f} |\n\n"
            "Loaded by a worker that only some runs need (ONLY_SOME_RUNS in the script): "
            f"{', '.join(loaded) or 'none'}.\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
