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
    held_back: list[tuple[str, str, str]] = field(default_factory=list)  # host, test, why
    failed_fixes: list[tuple[str, str, str]] = field(default_factory=list)  # host, test, line
    reboot_required: dict[str, list[str]] = field(default_factory=dict)  # host -> fixes
    notices: dict[str, list[str]] = field(default_factory=dict)  # host -> earlier runs

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
            text = str(value)
            if key == "fix":
                self.tally.fixes.append((host, name, text))
            elif key == "planned":
                summary, _, diff = text.partition("\n")
                self.tally.plans.append((host, name, summary, diff))
            elif key == "held_back":
                self.tally.held_back.append((host, name, text))
            elif key == "fix_failed":
                self.tally.failed_fixes.append((host, name, text))
            elif key == "reboot_required":
                self.tally.reboot_required.setdefault(host, []).append(text)
            elif key == "notice" and text not in self.tally.notices.get(host, []):
                self.tally.notices.setdefault(host, []).append(text)


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
    sections = (
        ("fixes that failed", tally.failed_fixes),
        ("fixes held back", tally.held_back),
    )
    for title, rows in sections:
        if rows:
            tr.section(title)
            for host, name, text in rows:
                tr.line(f"{host} {name}: {text.splitlines()[-1] if text else ''}")
    if tally.reboot_required:
        tr.section("reboot required")
        for host, fixes in sorted(tally.reboot_required.items()):
            tr.line(f"{host}: {', '.join(sorted(set(fixes)))}; reboot it to finish")
    if tally.notices:
        tr.section("earlier runs that did not finish")
        for host, notes in sorted(tally.notices.items()):
            for note in notes:
                tr.line(f"{host}: {note}")
    if tally.plans:
        tr.section("planned changes (dry run, nothing applied)")
        for host, name, plan, diff in tally.plans:
            tr.line(f"{host} {name}: {plan}")
            for line in diff.splitlines():
                tr.line("    " + line)
