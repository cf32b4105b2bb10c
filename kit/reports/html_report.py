"""The run as one self-contained HTML page: a hosts x checks matrix coloured by outcome,
and for a fleet, each check's roll-up (on how many hosts it failed, was fixed or waived).

Each cell is a few bytes; what it opens (messages, fixes, diffs) is one JSON blob the
page's own script shows on click, so a fleet of hundreds of hosts stays a light page.
Everything a host printed is data: autoescaped in the markup, `tojson` in the script.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import jinja2

from kit.plugin import rollup
from kit.reports.model import OUTCOMES, Result, Run, worst

SYMBOLS = {
    "passed": "✓",
    "failed": "✗",
    "warning": "!",
    "error": "E",
    "skipped": "-",
    "fixed": "+",
    "unreachable": "U",
    "waived": "W",
}

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("kit.reports", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(run: Run) -> str:
    hosts = [h.name for h in run.hosts]
    checks = [c.id for c in run.checks]
    host_index = {h: i for i, h in enumerate(hosts)}
    check_index = {c: i for i, c in enumerate(checks)}
    cells: dict[tuple[int, int], list[int]] = {}
    for n, result in enumerate(run.results):
        key = (host_index[result.host], check_index[result.check])
        cells.setdefault(key, []).append(n)
    rows = []
    for h, host in enumerate(run.hosts):
        row = []
        for c in range(len(checks)):
            found = [run.results[n].outcome for n in cells.get((h, c), [])]
            row.append(worst(found) or "none")
        rows.append((host, row))
    # A check's by-hand text is the same on every host its parameters are: kept once.
    by_hand: dict[str, int] = {}
    data = {
        "hosts": hosts,
        "checks": [asdict(c) for c in run.checks],
        "cells": {f"{h}.{c}": ns for (h, c), ns in cells.items()},
        "results": [_compact(r, by_hand) for r in run.results],
        "by_hand": list(by_hand),
    }
    severity = {c.id: c.severity for c in run.checks}
    fleet = (
        rollup.rollup(
            (r.host, r.check, severity.get(r.check, "error"), r.outcome) for r in run.results
        )
        if len(run.hosts) > 1
        else []
    )
    return _ENV.get_template("report.html.j2").render(
        run=run,
        rollup=fleet,
        rollup_columns=rollup.COLUMNS,
        rows=rows,
        check_totals=run.check_totals(),
        totals=run.totals(),
        outcomes=[o for o in OUTCOMES if o in run.totals()] or ["passed"],
        all_outcomes=OUTCOMES,
        symbols=SYMBOLS,
        data=data,
    )


def _compact(result: Result, by_hand: dict[str, int]) -> dict[str, Any]:
    """A result as the page shows it; empty fields left out to keep big fleets light, and
    its by-hand text as its index in by_hand, which gathers the distinct ones."""
    full = asdict(result)
    del full["host"], full["check"]
    shown = {k: v for k, v in full.items() if v not in (None, [], {}, False)}
    if result.by_hand is not None:
        shown["by_hand"] = by_hand.setdefault(result.by_hand, len(by_hand))
    return shown
