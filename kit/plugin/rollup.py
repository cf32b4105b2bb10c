"""The fleet's view of each check: on how many hosts it failed, was fixed, was waived or
errored, and the first of those hosts; the terminal's summary of a multi-host run and the
HTML report both show it.

A host counts once per check, by its worst result among the check's parameters: a check
that failed for one sysctl and passed for three failed on that host. An unreachable host
is no host the check failed on: the run could not look (its reason is shown once).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

FIRST_HOSTS = 3  # how many hosts a row names; the count says how many more
# A host's result for a check, worst first; the outcomes not here leave no mark.
_RANK = ("error", "failed", "warning", "fixed", "waived")
COLUMNS = ("failed", "fixed", "waived", "error")


@dataclass
class CheckRollup:
    check: str
    severity: str
    hosts: int = 0  # hosts the check was looked at on
    by_outcome: dict[str, list[str]] = field(default_factory=dict)  # column -> hosts

    def count(self, column: str) -> int:
        return len(self.by_outcome.get(column, ()))

    @property
    def first_hosts(self) -> str:
        """The hosts it failed or errored on (else was fixed, else waived), the first few."""
        named = self.by_outcome.get("failed", []) + self.by_outcome.get("error", [])
        named = named or self.by_outcome.get("fixed", []) or self.by_outcome.get("waived", [])
        named = sorted(named)
        shown = ", ".join(named[:FIRST_HOSTS])
        more = len(named) - FIRST_HOSTS
        return f"{shown} and {more} more" if more > 0 else shown


def rollup(results: Iterable[tuple[str, str, str, str]]) -> list[CheckRollup]:
    """Each check with any host that failed, warned, errored, was fixed or waived, from
    (host, check, severity, outcome) results; the checks failing on most hosts first.

    A warning is counted among the failures: the row's severity says it is a warning.
    """
    worst: dict[str, dict[str, str]] = {}  # check -> host -> worst outcome
    severity: dict[str, str] = {}
    for host, check, sev, outcome in results:
        severity.setdefault(check, sev)
        if outcome == "unreachable":
            continue
        hosts = worst.setdefault(check, {})
        hosts[host] = _worse(hosts.get(host), outcome)
    rows = []
    for check, hosts in worst.items():
        row = CheckRollup(check, severity[check], hosts=len(hosts))
        for host, outcome in hosts.items():
            column = "failed" if outcome == "warning" else outcome
            if column in COLUMNS:
                row.by_outcome.setdefault(column, []).append(host)
        if row.by_outcome:
            rows.append(row)
    rows.sort(key=lambda r: (-r.count("failed") - r.count("error"), -r.count("fixed"), r.check))
    return rows


def table(rows: list[CheckRollup]) -> list[str]:
    """The roll-up as fixed-width lines for a terminal."""
    head = ("check", "severity", *COLUMNS, "of", "first hosts")
    cells = [head] + [
        (r.check, r.severity, *(str(r.count(c)) for c in COLUMNS), str(r.hosts), r.first_hosts)
        for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head) - 1)]
    lines = []
    for row in cells:
        left = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        numbers = [
            text.rjust(max(width, 6)) for text, width in zip(row[2:-1], widths[2:], strict=True)
        ]
        lines.append("  ".join(left + numbers + [row[-1]]).rstrip())
    return lines


def _worse(before: str | None, outcome: str) -> str:
    if before is None:
        return outcome
    ranked = [o for o in _RANK if o in (before, outcome)]
    return ranked[0] if ranked else before
