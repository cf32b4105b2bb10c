"""The outcome words hostkit reports, and how a run's outcomes are tallied per host."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from kit.plugin import rollup
from kit.printable import printable

PASSED, FAILED, FIXED, ERROR, SKIPPED, WARNING, WAIVED = (
    "passed",
    "failed",
    "fixed",
    "error",
    "skipped",
    "warning",
    "waived",  # would have failed, warned or errored; a waiver accepts it (kit.plugin.waivers)
)
COLUMNS = (PASSED, FAILED, FIXED, WARNING, WAIVED, ERROR, SKIPPED)

# A host's verdict, the summary's last column.
COMPLIANT, NON_COMPLIANT, FIXED_HOST, UNREACHABLE = (
    "compliant",
    "non-compliant",
    "fixed",
    "unreachable",
)

# Exit codes. 0 and 1 are pytest's own (all passed; a check failed), so a CI job that already
# runs pytest reads them unchanged; 4 is pytest's usage error, which every option mistake is.
# An unreachable host gets a code outside pytest's 0-5, so no future pytest status collides
# with it and a script can tell "could not look" from "looked and found a problem".
EXIT_COMPLIANT, EXIT_NON_COMPLIANT, EXIT_UNREACHABLE, EXIT_USAGE = 0, 1, 10, 4


def host_verdict(counts: Mapping[str, int], unreachable: bool) -> str:
    """A host's verdict from its outcome counts: the one rule the terminal, JUnit and the
    JSON and HTML reports all show (kit.plugin.terminal, kit.reports.model)."""
    if unreachable:
        return UNREACHABLE
    if counts.get(FAILED) or counts.get(ERROR):
        return NON_COMPLIANT
    return FIXED_HOST if counts.get(FIXED) else COMPLIANT


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
    # host, check, why, what to do by hand (or None)
    warnings: list[tuple[str, str, str, str | None]] = field(default_factory=list)
    waived: list[tuple[str, str, str, str]] = field(default_factory=list)  # + justification
    unreachable_errors: int = 0  # checks that errored only because their host was unreachable
    # host -> why sudo refused there (the first reason), and how many checks it stopped
    sudo_refused: dict[str, tuple[str, int]] = field(default_factory=dict)
    # host, check id, severity, outcome ("unreachable" for an unreachable host's check)
    results: list[tuple[str, str, str, str]] = field(default_factory=list)

    def count(self, host: str, outcome: str) -> None:
        self.by_host.setdefault(host, Counter())[outcome] += 1

    def table(self) -> list[str]:
        if not self.by_host:
            return []
        width = max(len("host"), *(len(h) for h in self.by_host))
        head = "host".ljust(width) + "".join(c.rjust(9) for c in COLUMNS) + "  verdict"
        rows = [head, "-" * len(head)]
        for host in sorted(self.by_host):
            counts = self.by_host[host]
            cells = "".join(str(counts[c]).rjust(9) for c in COLUMNS)
            rows.append(f"{host.ljust(width)}{cells}  {self.verdict(host)}")
        return rows

    def verdict(self, host: str) -> str:
        return host_verdict(self.by_host.get(host, Counter()), host in self.unreachable)

    def exit_status(self, status: int, failed: int) -> int:
        """pytest's status, unless every failure was an unreachable host's check."""
        if status == EXIT_NON_COMPLIANT and self.unreachable and failed == self.unreachable_errors:
            return EXIT_UNREACHABLE
        return status


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
                self.tally.unreachable_errors += 1
        self.tally.count(host, outcome)
        name = report.nodeid.rpartition("::")[2]
        check = prop(report.user_properties, "check_id") or name.partition("[")[0]
        severity = prop(report.user_properties, "severity") or "error"
        unreachable = prop(report.user_properties, "unreachable") is not None
        self.tally.results.append(
            (host, check, severity, "unreachable" if unreachable else outcome)
        )
        for key, value in report.user_properties:
            text = str(value)
            if key == "fix":
                # The summary line; each file's diff is shown once (kit.plugin.terminal).
                self.tally.fixes.append((host, name, text.partition("\n")[0]))
            elif key == "planned":
                summary, _, diff = text.partition("\n")
                self.tally.plans.append((host, name, summary, diff))
            elif key == "held_back":
                self.tally.held_back.append((host, name, text))
            elif key == "fix_failed":
                self.tally.failed_fixes.append((host, name, text))
            elif key == "reboot_required":
                self.tally.reboot_required.setdefault(host, []).append(text)
            elif key == "message" and outcome == WARNING:
                check = prop(report.user_properties, "check_id") or name
                by_hand = prop(report.user_properties, "by_hand")
                self.tally.warnings.append((host, check, text, by_hand))
            elif key == "message" and outcome == WAIVED:
                check = prop(report.user_properties, "check_id") or name
                why = prop(report.user_properties, "waiver") or ""
                self.tally.waived.append((host, check, why, text))
            elif key == "notice" and text not in self.tally.notices.get(host, []):
                self.tally.notices.setdefault(host, []).append(text)
            elif key == "sudo_refused":
                first, stopped = self.tally.sudo_refused.get(host, (text, 0))
                self.tally.sudo_refused[host] = (first, stopped + 1)


def write_summary(tr: Any, tally: Tally) -> None:
    """The per-host table, unreachable hosts, fixes applied and fixes planned."""
    if not tally.by_host:
        return
    # Every line holds what hosts sent (messages, errors, records): shown escaped.
    tr = _Escaping(tr)
    tr.section("hostkit compliance")
    for line in tally.table():
        tr.line(line)
    rows = rollup.rollup(tally.results) if len(tally.by_host) > 1 else []
    if rows:
        tr.section("checks across hosts")
        for line in rollup.table(rows):
            tr.line(line)
    if tally.unreachable:
        tr.section("unreachable hosts")
        for host, reason in sorted(tally.unreachable.items()):
            tr.line(f"{host}: {reason}")
    if tally.sudo_refused:
        tr.section("hosts where sudo refused")
        for host, (reason, stopped) in sorted(tally.sudo_refused.items()):
            checks = "check" if stopped == 1 else "checks"
            tr.line(f"{host}: {reason} ({stopped} {checks} could not run)")
    if tally.fixes:
        tr.section("fixes applied")
        for host, name, change in tally.fixes:
            tr.line(f"{host} {name}: {change}")
    if tally.warnings:
        tr.section("warnings")
        for host, check, why, by_hand in tally.warnings:
            tr.line(f"{host} {check}: {why}")
            if by_hand is not None:
                tr.line(f"    by hand: {by_hand}")
    if tally.waived:
        rows = [("host", "check", "justification", "found")]
        rows += [tuple(printable(text) for text in row) for row in sorted(tally.waived)]
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        tr.section("waived checks")
        for row in rows:
            cells = [text.ljust(width) for text, width in zip(row, widths, strict=False)]
            tr.line("  ".join(cells) + f"  | {row[3]}")
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
        for host, name, plan, _diff in tally.plans:
            # Each file's diff follows once per host, with every fix's edits to it in one.
            tr.line(f"{host} {name}: {plan}")


class _Escaping:
    """A terminal reporter whose lines are escaped; sections are hostkit's own words."""

    def __init__(self, tr: Any) -> None:
        self._tr = tr

    def section(self, title: str) -> None:
        self._tr.section(title)

    def line(self, text: str) -> None:
        self._tr.line(printable(text))
