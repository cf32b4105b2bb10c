"""hostkit's own tests by tier, timed: `bash tests/run.sh [TIER...] [-- PYTEST-ARGS...]`.

No tier named runs every tier, as CI does. Each tier is one pytest process (the hosts tier
two: the VM's scenarios and the containers'), and the end of the output is a table of
each tier's wall time and each hosts scenario's, with the total, so every CI log shows
where the budget went.

Running every tier, the VM's scenarios start at once beside the rest: TCG emulation keeps
the VM on the critical path while leaving part of the two cores idle (the guest waits on
its own timers, the tests wait on the guest), and the other tiers fill that time. Their
output is kept in reports/TIER.log and printed whole when they end, so two tiers never
interleave their lines.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tests import timings

ROOT = Path(__file__).resolve().parents[1]
# Beside the VM's lane the other lanes run at a lower CPU priority: the VM is the critical
# path, and what it leaves idle is theirs.
BESIDE_VM_NICE = 10
REPORTS = ROOT / "reports"
STAGES = REPORTS / "hosts-stages.jsonl"
PYTEST = (sys.executable, "-m", "pytest")


@dataclass(frozen=True)
class Tier:
    name: str
    args: tuple[str, ...]  # after `python -m pytest`
    lane: str = "main"  # tiers of one lane run one after another; lanes run at once

    @property
    def junit(self) -> Path:
        return REPORTS / f"tests-{self.name}.xml"

    @property
    def log(self) -> Path:
        return REPORTS / f"{self.name}.log"

    def argv(self, extra: Sequence[str]) -> list[str]:
        return [*PYTEST, *self.args, f"--junitxml={self.junit}", *extra]


_PARITY = "tests/ssh/test_testinfra_parity.py"
_BENCHMARKS_CONFIG = ("-c", "benchmarks/pytest.ini", "--rootdir", "benchmarks")
# Listed in the order CI runs them; a name of TIER_GROUPS stands for several.
TIERS = (
    # The VM lane is the longest; it starts first, so the image is built and the VMs boot
    # while the rest runs. Two xdist workers each boot a VM of their own and take whole
    # modules: under TCG a scenario alternates between the guest's CPU and the host's
    # (each compliance run is a pytest process here), so two guests keep both cores busy
    # where one left them waiting on each other. loadgroup: a Debian 12 module is a group
    # of its own, as loadfile had it; the Debian 13 modules are one group, so one worker
    # boots the Debian 13 VM once for all of them (tests/hosts/conftest.py).
    Tier("hosts-vm", ("tests/hosts", "-m", "vm", "-n", "2", "--dist", "loadgroup"), lane="vm"),
    Tier("unit", ("tests/unit", "-n", "2")),
    Tier("local", ("tests/local", "-n", "2", "-m", "not wheel and not image")),
    # loadgroup: every test of the sshd with the test users runs on one worker
    # (tests/ssh/conftest.py), the rest on the other meanwhile.
    Tier("ssh", ("tests/ssh", "-n", "2", "--dist", "loadgroup", f"--deselect={_PARITY}")),
    Tier("parity", (_PARITY,)),
    Tier("plugin", ("tests/plugin", "-n", "2")),
    # The wheel as a user gets it: built, installed into a fresh venv, run from an empty
    # directory.
    Tier("wheel", ("tests/local", "-m", "wheel")),
    # The container image (deploy/), built from the wheel and cached by its inputs, run as
    # deploy/'s manifests run it against a disposable node.
    Tier("image", ("tests/local", "-m", "image")),
    Tier("bench", ("-p", "no:hostkit", *_BENCHMARKS_CONFIG, "benchmarks/tests")),
    # Each xdist worker boots containers of its own (kit.testhosts picks free namespaces),
    # so independent container scenarios run at once; loadfile keeps a module's scenarios,
    # which share their worker's containers in order, together.
    Tier("hosts-containers", ("tests/hosts", "-m", "not vm", "-n", "2", "--dist", "loadfile")),
)
TIER_GROUPS = {"hosts": ("hosts-vm", "hosts-containers")}


class UsageError(ValueError):
    pass


def select(names: Sequence[str]) -> list[Tier]:
    """The tiers named (every tier when none is), in CI's order; unknown names refused."""
    known = {t.name for t in TIERS}
    wanted: set[str] = set()
    for name in names:
        if name in TIER_GROUPS:
            wanted.update(TIER_GROUPS[name])
        elif name in known:
            wanted.add(name)
        else:
            choices = ", ".join([*(t.name for t in TIERS), *TIER_GROUPS])
            raise UsageError(f"no tier {name!r}; tiers: {choices}")
    return [t for t in TIERS if not wanted or t.name in wanted]


def lanes(tiers: Sequence[Tier]) -> list[list[Tier]]:
    """Tiers grouped by lane, each lane in CI's order; the lane holding the most tiers
    (the one streamed to the terminal) first."""
    grouped: dict[str, list[Tier]] = {}
    for tier in tiers:
        grouped.setdefault(tier.lane, []).append(tier)
    return sorted(grouped.values(), key=len, reverse=True)


def niceness(lane: Sequence[Tier], lanes: Sequence[Sequence[Tier]]) -> int:
    """The CPU niceness a lane runs at: lowered beside the VM's lane, which is not."""
    vm_running = any(other[0].lane == "vm" for other in lanes if other is not lane)
    return BESIDE_VM_NICE if vm_running and lane[0].lane != "vm" else 0


class Runner:
    def __init__(self, extra: Sequence[str]) -> None:
        self.extra = list(extra)
        self.results: list[timings.TierTime] = []
        self._print = threading.Lock()

    def run_lane(self, lane: Sequence[Tier], stream: bool, nice: int = 0) -> None:
        for tier in lane:
            self.results.append(self.run_tier(tier, stream, nice))

    def run_tier(self, tier: Tier, stream: bool, nice: int = 0) -> timings.TierTime:
        argv = tier.argv(self.extra)
        if nice:
            argv = ["nice", "-n", str(nice), *argv]
        env = {**os.environ, "HOSTKIT_STAGES": str(STAGES)}
        started = time.monotonic()
        if stream:
            with self._print:
                print(f"\n=== {tier.name}: {' '.join(argv)}", flush=True)
            rc = subprocess.run(argv, cwd=ROOT, env=env, check=False).returncode
        else:
            with tier.log.open("wb") as log:
                rc = subprocess.run(
                    argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
                ).returncode
        seconds = time.monotonic() - started
        if not stream:
            with self._print:
                print(f"\n=== {tier.name} (ran beside the others): {' '.join(argv)}")
                sys.stdout.flush()
                sys.stdout.buffer.write(tier.log.read_bytes())
                sys.stdout.flush()
        return timings.TierTime(tier.name, seconds, rc, narrowed=bool(self.extra))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bash tests/run.sh",
        description="Run hostkit's own tests by tier; no tier: every tier, as CI does.",
        epilog="Arguments after -- go to every tier's pytest.",
    )
    parser.add_argument("tiers", nargs="*", metavar="TIER",
                        help=", ".join([*(t.name for t in TIERS), *TIER_GROUPS]))  # fmt: skip
    args = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args:
        extra = args[args.index("--") + 1 :]
        args = args[: args.index("--")]
    names = parser.parse_args(args).tiers
    try:
        tiers = select(names)
    except UsageError as exc:
        parser.error(str(exc))
    REPORTS.mkdir(exist_ok=True)
    STAGES.unlink(missing_ok=True)
    runner = Runner(extra)
    load_before = os.getloadavg()
    started = time.monotonic()
    first, *others = lanes(tiers)
    beside = [
        threading.Thread(
            target=runner.run_lane,
            args=(lane, False, niceness(lane, [first, *others])),
            name=lane[0].lane,
        )
        for lane in others
    ]
    for thread in beside:
        thread.start()
    runner.run_lane(first, stream=True, nice=niceness(first, others))
    for thread in beside:
        thread.join()
    total = time.monotonic() - started
    order = {t.name: i for i, t in enumerate(TIERS)}
    results = sorted(runner.results, key=lambda r: order[r.name])
    hosts = [t for t in tiers if t.name in TIER_GROUPS["hosts"]]
    scenarios = [s for t in hosts for s in timings.scenarios(t.junit, t.name)]
    print()
    print(
        timings.table(
            results, scenarios, timings.stages(STAGES), total, (load_before, os.getloadavg())
        )
    )
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
