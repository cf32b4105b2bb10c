"""The outcome words hostkit reports, and how a run's outcomes are tallied per host."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

PASSED, FAILED, FIXED, ERROR, SKIPPED, WARNING = (
    "passed",
    "failed",
    "fixed",
    "error",
    "skipped",
    "warning",
)
COLUMNS = (PASSED, FAILED, FIXED, WARNING, ERROR, SKIPPED)


def prop(props: list[tuple[str, object]], name: str) -> str | None:
    for key, value in reversed(props):
        if key == name:
            return str(value)
    return None


@dataclass
class Tally:
    by_host: dict[str, Counter[str]] = field(default_factory=dict)
    fixes: list[tuple[str, str, str]] = field(default_factory=list)  # host, test, change
    plans: list[tuple[str, str, str, str]] = field(default_factory=list)  # + diff
    unreachable: dict[str, str] = field(default_factory=dict)

    def count(self, host: str, outcome: str) -> None:
        self.by_host.setdefault(host, Counter())[outcome] += 1

    def table(self) -> list[str]:
        if not self.by_host:
            return []
        width = max(len("host"), *(len(h) for h in self.by_host))
        head = "host".ljust(width) + "".join(c.rjust(9) for c in COLUMNS)
        rows = [head, "-" * len(head)]
        for host in sorted(self.by_host):
            counts = self.by_host[host]
            rows.append(host.ljust(width) + "".join(str(counts[c]).rjust(9) for c in COLUMNS))
        return rows


class Collector:
    """Tallies reports on the process that writes reports (under xdist, the controller)."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        host = prop(report.user_properties, "host")
        outcome = prop(report.user_properties, "outcome")
        if host is None or outcome is None or report.when == "teardown":
            return
        if report.when == "setup":
            reason = prop(report.user_properties, "unreachable")
            if reason is not None:
                self.tally.unreachable.setdefault(host, reason)
        self.tally.count(host, outcome)
        name = report.nodeid.rpartition("::")[2]
        for key, value in report.user_properties:
            if key == "fix":
                self.tally.fixes.append((host, name, str(value)))
            elif key == "planned":
                summary, _, diff = str(value).partition("\n")
                self.tally.plans.append((host, name, summary, diff))


def write_summary(tr: Any, tally: Tally) -> None:
    """The per-host table, unreachable hosts, fixes applied and fixes planned."""
    if not tally.by_host:
        return
    tr.section("hostkit compliance")
    for line in tally.table():
        tr.line(line)
    if tally.unreachable:
        tr.section("unreachable hosts")
        for host, reason in sorted(tally.unreachable.items()):
            tr.line(f"{host}: {reason}")
    if tally.fixes:
        tr.section("fixes applied")
        for host, name, change in tally.fixes:
            tr.line(f"{host} {name}: {change}")
    if tally.plans:
        tr.section("planned changes (dry run, nothing applied)")
        for host, name, plan, diff in tally.plans:
            tr.line(f"{host} {name}: {plan}")
            for line in diff.splitlines():
                tr.line("    " + line)
