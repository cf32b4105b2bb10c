"""The wall-time table that ends `bash tests/run.sh`: each tier, each hosts scenario, total.

Scenario times come from the tier's JUnit report (pytest's `time` is setup, call and
teardown together); the hosts tier's stages (the image, each fleet's boot) from the JSON
lines its fixtures append to the file named by HOSTKIT_STAGES, since a session fixture's
time would otherwise hide in the first scenario that asked for it.
"""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

NO_TESTS = 5  # pytest's exit status when nothing was collected


@dataclass(frozen=True)
class TierTime:
    name: str
    seconds: float
    rc: int
    narrowed: bool = False  # pytest arguments given after --, such as -k, may select nothing

    @property
    def ok(self) -> bool:
        """Passed; or selected nothing only because the arguments given narrowed it. A
        tier collecting nothing by itself is broken (pytest's 5), never a pass."""
        return self.rc == 0 or (self.rc == NO_TESTS and self.narrowed)

    @property
    def verdict(self) -> str:
        if self.rc == 0:
            return "passed"
        if self.rc == NO_TESTS:
            return "nothing selected by the arguments" if self.narrowed else "FAILED (no tests ran)"
        return f"FAILED (exit {self.rc})"


@dataclass(frozen=True)
class Scenario:
    tier: str
    name: str  # module::test
    seconds: float
    outcome: str


@dataclass(frozen=True)
class Stage:
    name: str
    seconds: float
    worker: str


def scenarios(junit: Path, tier: str) -> list[Scenario]:
    """Every test case of a JUnit report; none when the report is missing (the tier did not
    get as far as writing it, which its exit status already says)."""
    try:
        root = ET.parse(junit).getroot()
    except (OSError, ET.ParseError):
        return []
    found = []
    for case in root.iter("testcase"):
        module = case.get("classname", "").rsplit(".", 1)[-1]
        kinds = [c.tag for c in case if c.tag in ("failure", "error", "skipped")]
        found.append(
            Scenario(
                tier,
                f"{module}::{case.get('name', '')}",
                float(case.get("time") or 0.0),
                kinds[0] if kinds else "passed",
            )
        )
    return found


def record_stage(name: str, seconds: float) -> None:
    """Append one stage's time to HOSTKIT_STAGES, if set: one write of one line, so the
    xdist workers' appends do not interleave."""
    path = os.environ.get("HOSTKIT_STAGES")
    if not path:
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    line = json.dumps({"stage": name, "seconds": round(seconds, 1), "worker": worker}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


class timed:
    """`with timed("boot vm"):` records the block's wall time as a stage."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self._started = time.monotonic()

    def __exit__(self, *exc: object) -> None:
        record_stage(self.name, time.monotonic() - self._started)


def stages(path: Path) -> list[Stage]:
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return []
    found = []
    for line in lines:
        data = json.loads(line)
        found.append(Stage(data["stage"], float(data["seconds"]), data["worker"]))
    return found


def _minutes(seconds: float) -> str:
    return f"{seconds:8.1f} s {seconds / 60:5.1f} min"


def table(
    tiers: list[TierTime],
    scenarios: list[Scenario],
    stages: list[Stage],
    total: float,
    load: tuple[tuple[float, ...], tuple[float, ...]],
) -> str:
    width = max([len(t.name) for t in tiers] + [len(s.name) + 2 for s in scenarios] + [20])
    lines = ["wall time by tier", f"{'tier':<{width}}  {'time':>18}  result"]
    lines += [f"{t.name:<{width}}  {_minutes(t.seconds)}  {t.verdict}" for t in tiers]
    if stages:
        lines += ["", "hosts tier stages (inside the first scenario's time that needed them)"]
        lines += [
            f"{s.name + ' [' + s.worker + ']':<{width}}  {_minutes(s.seconds)}" for s in stages
        ]
    for tier in dict.fromkeys(s.tier for s in scenarios):
        own = sorted((s for s in scenarios if s.tier == tier), key=lambda s: -s.seconds)
        lines += ["", f"{tier} scenarios, longest first ({len(own)}, "
                      f"{sum(s.seconds for s in own) / 60:.1f} min summed)"]  # fmt: skip
        lines += [f"  {s.name:<{width - 2}}  {_minutes(s.seconds)}  {s.outcome}" for s in own]
    before, after = (" ".join(f"{x:.2f}" for x in avg) for avg in load)
    lines += [
        "",
        f"{'total':<{width}}  {_minutes(total)}",
        f"load average (1, 5, 15 min): {before} at the start, {after} at the end",
    ]
    return "\n".join(lines)
