"""One run's results, built from pytest's reports, as the JSON and HTML reports show them.

The recorder reads only what a report carries (its user properties and the check
metadata attached to it), so it sees the same thing serially and on an xdist
controller, where the items themselves live in the workers.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import pytest

from kit.plugin import outcomes
from kit.plugin.outcomes import prop

SCHEMA_VERSION = "1"
UNREACHABLE, WAIVED = "unreachable", outcomes.WAIVED
# Every outcome a result may have, worst first: a cell of several results shows the worst.
OUTCOMES = (
    outcomes.ERROR,
    UNREACHABLE,
    outcomes.FAILED,
    outcomes.WARNING,
    outcomes.FIXED,
    WAIVED,
    outcomes.SKIPPED,
    outcomes.PASSED,
)
CHECK_ATTR = "hostkit_check"  # the report attribute carrying the check's metadata
MAX_DETAIL = 20_000  # a traceback longer than this is cut: the message says what failed


@dataclass
class Check:
    id: str
    title: str
    severity: str = "error"
    refs: dict[str, str] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)


@dataclass
class Fix:
    """A remediation's part in a result: applied, planned (dry run), failed or held back."""

    status: str
    summary: str
    diff: str | None = None


@dataclass
class Waiver:
    """The waiver that covered a result: what turned it `waived`, or matched a pass."""

    justification: str
    expires: str | None = None  # an ISO date


@dataclass
class Result:
    host: str
    check: str
    test: str
    outcome: str
    params: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    detail: str | None = None
    fixes: list[Fix] = field(default_factory=list)
    reboot_required: bool = False
    duration: float = 0.0
    waiver: Waiver | None = None
    # What to do by hand, for a check that failed or warned, or whose fix failed: the
    # text of the check's catalog (by-hand.yaml) with the failing parameters.
    by_hand: str | None = None


@dataclass
class Host:
    name: str
    profile: str | None = None
    unreachable: str | None = None
    totals: dict[str, int] = field(default_factory=dict)
    verdict: str = outcomes.COMPLIANT


@dataclass
class Run:
    started: str
    finished: str
    duration: float
    mode: str  # check, fix or dry-run
    run_id: str | None = None
    kit_version: str = field(default_factory=lambda: kit_version())
    schema_version: str = SCHEMA_VERSION
    profiles: list[str] = field(default_factory=list)
    hosts: list[Host] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    results: list[Result] = field(default_factory=list)
    waivers: list[dict[str, Any]] = field(default_factory=list)  # each entry of --waivers

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def cell(self, host: str, check: str) -> list[Result]:
        return [r for r in self.results if r.host == host and r.check == check]

    def check_totals(self) -> dict[str, dict[str, int]]:
        totals: dict[str, Counter[str]] = {c.id: Counter() for c in self.checks}
        for r in self.results:
            totals.setdefault(r.check, Counter())[r.outcome] += 1
        return {k: dict(v) for k, v in totals.items()}

    def totals(self) -> dict[str, int]:
        return dict(Counter(r.outcome for r in self.results))


def kit_version() -> str:
    try:
        return importlib.metadata.version("hostkit")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def worst(found: list[str]) -> str | None:
    ranked = [o for o in OUTCOMES if o in found]
    return ranked[0] if ranked else None


def finish(run: Run) -> Run:
    """Fill each host's totals, unreachable reason and verdict from the results."""
    by_host: dict[str, Counter[str]] = {h.name: Counter() for h in run.hosts}
    reasons: dict[str, str] = {}
    for r in run.results:
        if r.host not in by_host:
            run.hosts.append(Host(r.host))
            by_host[r.host] = Counter()
        by_host[r.host][r.outcome] += 1
        if r.outcome == UNREACHABLE:
            reasons.setdefault(r.host, r.message or UNREACHABLE)
    for host in run.hosts:
        host.totals = dict(by_host[host.name])
        host.unreachable = host.unreachable or reasons.get(host.name)
        host.verdict = outcomes.host_verdict(host.totals, host.unreachable is not None)
    return run


# -- from pytest's reports -------------------------------------------------------------


def check_of(item: pytest.Item) -> dict[str, Any]:
    """What a report carries about its check and parameters, set where the item lives."""
    from kit.catalog.check import meta_of
    from kit.plugin.fix import check_params

    meta = meta_of(item)
    name = getattr(item, "originalname", None) or item.name
    check = Check(name, name) if meta is None else _check(meta)
    params = {k: str(v) for k, v in check_params(item).items()}
    return {"check": asdict(check), "params": params}


def _check(meta: Any) -> Check:
    return Check(meta.id, meta.title, meta.severity, dict(meta.refs), list(meta.tags))


class Recorder:
    """Each host check's one result, from the reports of its setup, call and teardown."""

    def __init__(self) -> None:
        self.started = dt.datetime.now(dt.UTC)
        self.checks: dict[str, Check] = {}
        self.results: dict[str, Result] = {}
        self.durations: Counter[str] = Counter()

    def add(self, report: pytest.TestReport) -> None:
        host = prop(report.user_properties, "host")
        if host is None:
            return  # not a host check: the kit's reports cover hosts
        self.durations[report.nodeid] += report.duration
        outcome = prop(report.user_properties, "outcome")
        if outcome is None or report.when == "teardown" or report.nodeid in self.results:
            if report.nodeid in self.results:
                self.results[report.nodeid].duration = round(self.durations[report.nodeid], 6)
            return
        carried = getattr(report, CHECK_ATTR, None) or {}
        check = Check(**carried["check"]) if "check" in carried else None
        check_id = prop(report.user_properties, "check_id") or (
            check.id if check else report.nodeid.rpartition("::")[2].partition("[")[0]
        )
        if check_id not in self.checks:
            self.checks[check_id] = check or Check(check_id, check_id)
        unreachable = prop(report.user_properties, "unreachable")
        self.results[report.nodeid] = Result(
            host=host,
            check=check_id,
            test=report.nodeid,
            outcome=UNREACHABLE if unreachable is not None else outcome,
            params=dict(carried.get("params", {})),
            message=_message(report, check_id, unreachable),
            detail=_detail(report),
            fixes=_fixes(report.user_properties),
            reboot_required=prop(report.user_properties, "reboot_required") is not None,
            duration=round(self.durations[report.nodeid], 6),
            waiver=_waiver(report.user_properties),
            by_hand=prop(report.user_properties, "by_hand"),
        )

    def run(
        self,
        mode: str,
        hosts: list[Host],
        profiles: list[str],
        run_id: str | None = None,
        waivers: list[dict[str, Any]] | None = None,
    ) -> Run:
        now = dt.datetime.now(dt.UTC)
        return finish(
            Run(
                started=self.started.isoformat(timespec="seconds"),
                finished=now.isoformat(timespec="seconds"),
                duration=round((now - self.started).total_seconds(), 3),
                mode=mode,
                run_id=run_id,
                profiles=profiles,
                hosts=hosts,
                checks=list(self.checks.values()),
                results=list(self.results.values()),
                waivers=list(waivers or []),
            )
        )


def _message(report: pytest.TestReport, check_id: str, unreachable: str | None) -> str | None:
    if unreachable is not None:
        return unreachable
    own = prop(report.user_properties, "message")
    if own is not None:
        return own
    longrepr = report.longrepr
    if longrepr is None:
        return None
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    text = str(longrepr)
    first, _, _ = text.partition("\n")
    if first.startswith(f"{check_id}: "):
        # A check's failure as the terminal shows it: its id, then what it found.
        return first.removeprefix(f"{check_id}: ") or None
    errors = [ln.strip()[2:].strip() for ln in text.splitlines() if ln.strip().startswith("E ")]
    lines = errors or text.strip().splitlines()[-1:]
    return "\n".join(lines) or None


def _waiver(props: list[tuple[str, object]]) -> Waiver | None:
    justification = prop(props, "waiver")
    if justification is None:
        return None
    return Waiver(justification, prop(props, "waiver_expires"))


def _detail(report: pytest.TestReport) -> str | None:
    if report.longrepr is None or isinstance(report.longrepr, tuple):
        return None
    text = str(report.longrepr)
    return text if len(text) <= MAX_DETAIL else text[:MAX_DETAIL] + "\n[...]"


def _fixes(props: list[tuple[str, object]]) -> list[Fix]:
    found: list[Fix] = []
    for key, value in props:
        text = str(value)
        if key in ("fix", "planned"):
            summary, _, diff = text.partition("\n")
            found.append(Fix("applied" if key == "fix" else "planned", summary, diff or None))
        elif key == "fix_failed":
            found.append(Fix("failed", text))
        elif key == "held_back":
            found.append(Fix("held-back", text))
    return found
