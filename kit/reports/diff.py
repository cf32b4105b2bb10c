"""What changed between two runs' --report-json documents: `hostkit report diff OLD NEW`.

A cell is one host's result of one check with its parameters; several results in one cell
(a check run twice) count as the worst of them. Each cell whose outcome differs is one
Change, listed worst news first: new failures, new errors (an unreachable host is one),
fixed cells, other changes of outcome, cells that appeared, cells that disappeared. A host
that is gone altogether is one change, not one per check. The run got worse when a cell
became failed or an error from anything that was not (a cell that appears failing too).

Pure: the documents come in already read and shape-checked (kit/report.py reads them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from kit.printable import printable
from kit.reports.model import UNREACHABLE, worst

FAILED, ERROR = "failed", "error"
# The outcomes that make a host non-compliant (or unchecked): becoming one is worse.
BAD = frozenset({FAILED, ERROR, UNREACHABLE})
KINDS = (FAILED, ERROR, "fixed", "changed", "appeared", "disappeared")
WORSE = frozenset({FAILED, ERROR})


@dataclass(frozen=True)
class Change:
    kind: str  # one of KINDS
    host: str
    check: str  # the check's id with its parameters; empty for a whole host
    old: str | None  # the outcome before, None where the cell was not in OLD
    new: str | None


def label(result: Mapping[str, Any]) -> str:
    """A result's cell within its host: the check's id and its parameters, in order."""
    params = result.get("params") or {}
    if not isinstance(params, Mapping) or not params:
        return str(result.get("check", ""))
    shown = ",".join(f"{k}={v}" for k, v in params.items())
    return f"{result.get('check', '')}[{shown}]"


def cells(doc: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Each host's outcome per check label, the worst of a cell's results."""
    found: dict[str, dict[str, list[str]]] = {h["name"]: {} for h in doc.get("hosts", ())}
    for result in doc["results"]:
        found.setdefault(result["host"], {}).setdefault(label(result), []).append(result["outcome"])
    return {
        host: {cell: worst(got) or got[0] for cell, got in by_label.items()}
        for host, by_label in found.items()
    }


def _kind(old: str | None, new: str | None) -> str:
    if new is None:
        return "disappeared"
    if new in BAD and (old is None or old not in BAD):
        return FAILED if new == FAILED else ERROR
    if old is None:
        return "appeared"
    if old in BAD and new not in BAD:
        return "fixed"
    return "changed"


def changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every cell whose outcome differs, in the order of KINDS, then by host and check."""
    before, after = cells(old), cells(new)
    found: list[Change] = []
    for host in sorted(before.keys() | after.keys()):
        if host not in after:
            count = len(before[host])
            found.append(Change("disappeared", host, "", f"{count} results", None))
            continue
        was, now = before.get(host, {}), after[host]
        for cell in sorted(was.keys() | now.keys()):
            a, b = was.get(cell), now.get(cell)
            if a != b:
                found.append(Change(_kind(a, b), host, cell, a, b))
    return sorted(found, key=lambda c: (KINDS.index(c.kind), c.host, c.check))


def worse(found: Iterable[Change]) -> bool:
    return any(c.kind in WORSE for c in found)


def lines(found: Sequence[Change]) -> list[str]:
    """One line per change: kind, host, check, old -> new; what a report holds escaped."""
    if not found:
        return []
    rows = [
        (c.kind, printable(c.host), printable(c.check) or "(host)", c.old or "-", c.new or "-")
        for c in found
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return [
        f"{kind.ljust(widths[0])}  {host.ljust(widths[1])}  {check.ljust(widths[2])}  "
        f"{old} -> {new}"
        for kind, host, check, old, new in rows
    ]


def to_json(found: Sequence[Change]) -> str:
    return json.dumps({"worse": worse(found), "changes": [asdict(c) for c in found]}, indent=2)
