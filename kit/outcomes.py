"""The outcome words hostkit reports, and how a run's outcomes are tallied per host."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

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
