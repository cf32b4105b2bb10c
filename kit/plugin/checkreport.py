"""One check's report: what its outcome is in hostkit's words, and what it says.

A check of an unreachable host errors with one line (the reason is shown once, among the
summary's unreachable hosts); a failing `warning` check passes as `warning` unless
--strict; a waived failure passes as `waived`. The outcome and the message travel as
the report's user properties, which reach the tally, JUnit and the run reports alike,
under xdist too.
"""

from __future__ import annotations

import pytest

from kit.catalog.check import meta_of
from kit.errors import ConnectError
from kit.plugin import collected, outcomes
from kit.plugin.fixentry import ITEM_OUTCOME
from kit.plugin.outcomes import prop
from kit.plugin.runstate import STATE, RunState

UNREACHABLE_LINE = "host unreachable"


def connect_first(item: pytest.Item) -> None:
    """Connect before a check's fixtures are set up, so an unreachable host is an error, not
    a failure.

    A hook, not an autouse fixture: for each test, pytest builds a new fixture definition
    for every fixture that asks for `request`, which cost more than the rest of the plugin's
    work on a check. It runs after the skip and xfail marks are read, as the fixture did.
    """
    ctx = collected.context(item)
    if ctx is None:
        return
    try:
        ctx.conn  # noqa: B018 - connecting is the point
        return
    except ConnectError as exc:
        reason = exc.reason
    # The reason is shown once, in the summary's unreachable hosts; each check says only
    # this, raised outside the handler so no chained traceback comes with it.
    item.user_properties.append(("unreachable", reason))
    pytest.fail(UNREACHABLE_LINE, pytrace=False)


def outcome_of(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    """Give the report its outcome property; a warning or a waiver turns it into a pass."""
    state: RunState = item.config.stash[STATE]
    outcome = _outcome(item, report)
    if outcome is None:
        return
    meta = meta_of(item)
    if outcome == outcomes.FAILED and meta and meta.severity == "warning" and not state.strict:
        # Shown and reported, but a warning fails the run only under --strict.
        outcome = outcomes.WARNING
        held = prop(item.user_properties, "held_back") or _unplanned(item)
        message = _first_line(call, report) + (f"; {held}" if held else "")
        item.user_properties.append(("message", message))
        report.outcome = "passed"
        report.longrepr = None
    if outcome == outcomes.ERROR and prop(item.user_properties, "unreachable") is not None:
        report.longrepr = UNREACHABLE_LINE
    elif report.when == "call":
        outcome = _waive(item, state, call, report, outcome)
    item.user_properties.append(("outcome", outcome))
    report.user_properties = list(item.user_properties)


def status_word(report: pytest.TestReport) -> tuple[str, str, str] | None:
    """The word, letter and verbose word pytest shows for a fixed, warned or waived check."""
    if report.when != "call":
        return None
    outcome = prop(report.user_properties, "outcome")
    if outcome == outcomes.FIXED:
        return "fixed", "+", "FIXED"
    if outcome == outcomes.WARNING:
        return "warned", "W", "WARNING"
    if outcome == outcomes.WAIVED:
        return "waived", "w", "WAIVED"
    return None


def _waive(
    item: pytest.Item,
    state: RunState,
    call: pytest.CallInfo[None],
    report: pytest.TestReport,
    outcome: str,
) -> str:
    """A waived check's failure, warning or error becomes `waived`, which fails nothing."""
    waiver = state.waiver_for(item)
    if waiver is None:
        return outcome
    item.user_properties.append(("waiver", waiver.justification))
    if waiver.expires is not None:
        item.user_properties.append(("waiver_expires", waiver.expires.isoformat()))
    if outcome not in (outcomes.FAILED, outcomes.WARNING, outcomes.ERROR):
        return outcome
    if outcome != outcomes.WARNING:  # a warning has its message already
        found = _first_line(call, report)
        if outcome == outcomes.ERROR and call.excinfo is not None:
            found = f"{call.excinfo.typename}: {found}"
        item.user_properties.append(("message", found))
    report.outcome = "passed"
    report.longrepr = None
    return outcomes.WAIVED


def _outcome(item: pytest.Item, report: pytest.TestReport) -> str | None:
    if report.when == "call":
        if report.skipped:
            return outcomes.SKIPPED
        if report.passed:
            return item.stash.get(ITEM_OUTCOME, outcomes.PASSED)
        return item.stash.get(ITEM_OUTCOME, outcomes.FAILED)
    if report.when == "setup" and (report.failed or report.skipped):
        return outcomes.ERROR if report.failed else outcomes.SKIPPED
    return None


def _first_line(call: pytest.CallInfo[None], report: pytest.TestReport) -> str:
    """The check's own message, without the id and location its failure report adds."""
    if call.excinfo is not None:
        lines = str(call.excinfo.value).splitlines()
        if lines:
            return lines[0][:300]
    text = str(report.longrepr or "")
    errors = [ln.strip()[2:].strip() for ln in text.splitlines() if ln.strip().startswith("E ")]
    lines = errors or text.strip().splitlines()[-1:] or [""]
    return lines[0][:300]


def _unplanned(item: pytest.Item) -> str | None:
    planned = prop(item.user_properties, "planned")
    unplanned = planned and planned.startswith(("cannot plan:", "fix cannot be planned:"))
    return planned if unplanned else None
