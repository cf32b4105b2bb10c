"""One check's report: what its outcome is in hostkit's words, and what it says.

A check of an unreachable host errors with one line (the reason is shown once, among the
summary's unreachable hosts); a failing `warning` check passes as `warning` unless
--strict; a waived failure passes as `waived`. A check that failed, warned, or whose
fix failed says what to do by hand (its text in the catalog's by-hand.yaml, see
kit/catalog/byhand.py): a `by_hand` property, and a line under the failure. The outcome,
the message and that text travel as the report's user properties, which reach the
tally, JUnit and the run reports alike, under xdist too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kit.catalog.check import meta_of
from kit.errors import ConnectError, HostUnreachable, SudoError
from kit.plugin import collected, outcomes
from kit.plugin.fix import check_params
from kit.plugin.fixentry import ITEM_OUTCOME
from kit.plugin.outcomes import prop
from kit.plugin.runstate import STATE, RunState
from kit.printable import printable

if TYPE_CHECKING:
    from kit.plugin.planning import ProfilePlan

UNREACHABLE_LINE = "host unreachable"
SUDO_REFUSED = "sudo_refused"  # the user property: why sudo refused, and what to give it
# What to do when sudo refuses, by kit.connection.sudo's reason (the rest: sudo's own words).
_SUDO_REMEDY = {
    "a password is required and no sudo password was given": (
        "give the password with --sudo-password-env VAR or --sudo-password-file FILE"
    ),
    "a password is required": (
        "give the password with --sudo-password-env VAR or --sudo-password-file FILE"
    ),
    "incorrect password": ("check the password --sudo-password-env or --sudo-password-file gives"),
    "sudo is not installed": "install sudo on the host, or connect as root",
    "user is not allowed to run this command": (
        "give the connecting user sudo rights on the host, or connect as root"
    ),
}
_UNREACHABLE_REMEDY = (
    "check the address and port given in --hosts or the inventory, and that sshd listens there"
)
BY_HAND = "by_hand"  # the user property, and the JSON report's field
# Check id -> its by-hand text, from every catalog the run's checks come from.
_TEXTS = pytest.StashKey[dict[str, str]]()


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
        reason = reason_with_remedy(exc)
    # The reason is shown once, in the summary's unreachable hosts; each check says only
    # this, raised outside the handler so no chained traceback comes with it.
    item.user_properties.append(("unreachable", reason))
    pytest.fail(UNREACHABLE_LINE, pytrace=False)


def reason_with_remedy(exc: ConnectError) -> str:
    """Why the host could not be reached, with what fixes it. A refused key or login says
    already which option to give (kit.connection); nothing answering says where to look."""
    if type(exc) is HostUnreachable and "jump host" not in exc.reason:
        return f"{exc.reason}; {_UNREACHABLE_REMEDY}"
    return exc.reason


def sudo_line(exc: SudoError) -> str:
    """sudo's refusal on a host as one line, with the option or change that fixes it."""
    remedy = _SUDO_REMEDY.get(exc.reason)
    return f"sudo failed: {exc.reason}" + (f"; {remedy}" if remedy else "")


def collapsed(report: pytest.TestReport) -> bool:
    """A check the run could not look at on its host (unreachable, sudo refused): its
    reason is the host's, shown once in the summary, so the check has no block of its own."""
    props = report.user_properties
    return prop(props, "unreachable") is not None or prop(props, SUDO_REFUSED) is not None


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
    unreachable = prop(item.user_properties, "unreachable")
    refused = _sudo_refusal(call)
    if outcome == outcomes.ERROR and unreachable is not None:
        # One line: JUnit's message for each of the host's checks.
        report.longrepr = f"{UNREACHABLE_LINE}: {unreachable}"
    elif outcome == outcomes.ERROR and refused is not None:
        item.user_properties.append((SUDO_REFUSED, refused))
        report.longrepr = refused
    elif report.when == "call":
        outcome = _waive(item, state, call, report, outcome)
        _by_hand(item, report, outcome)
    item.user_properties.append(("outcome", outcome))
    report.user_properties = list(item.user_properties)


def _sudo_refusal(call: pytest.CallInfo[None]) -> str | None:
    exc = call.excinfo.value if call.excinfo is not None else None
    return sudo_line(exc) if isinstance(exc, SudoError) else None


def counted_as_error(report: pytest.TestReport) -> bool:
    """A host's check that raised in its call: an error in the host table, so in pytest's
    counts and JUnit's too. A test of no host keeps pytest's word for it (failed)."""
    props = report.user_properties
    return prop(props, "host") is not None and prop(props, "outcome") == outcomes.ERROR


def status_word(report: pytest.TestReport) -> tuple[str, str, str] | None:
    """The word, letter and verbose word pytest shows for a fixed, warned, waived or
    errored check.

    A check that raised something other than its assertion is an error, as the host table
    and JUnit count it, not the failure pytest would call it.
    """
    if report.when != "call":
        return None
    outcome = prop(report.user_properties, "outcome")
    if outcome == outcomes.ERROR and report.failed and counted_as_error(report):
        return "error", "E", "ERROR"
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


# -- what to do by hand -------------------------------------------------------------------


def load_texts(config: pytest.Config, plan: ProfilePlan) -> None:
    """Read and check the by-hand texts of each catalog the run's checks come from, at
    start-up: a mistake in one is a usage error (KitValueError) before any host is
    contacted. A profile's catalogs are the directories its checks may come from; a run
    without a profile looks beside the test modules it was given."""
    texts: dict[str, str] = {}
    directories = _catalog_dirs(config, plan)
    if directories:
        # Only then: a run of plain test modules loads neither the catalog model nor YAML.
        from kit.catalog import describe

        for directory in directories:
            texts.update(describe.by_hand_texts(directory))
    config.stash[_TEXTS] = texts


def _catalog_dirs(config: pytest.Config, plan: ProfilePlan) -> list[Path]:
    from kit.catalog.byhand import FILE
    from kit.plugin import planning

    named = [p for p in plan.all() if p.name]
    if named:
        profiles = Path(config.rootpath / config.getini("hostkit_profiles"))
        found = [d for p in named for d in planning.catalog_dirs(p, profiles)]
    else:
        found = [path.parent for path in _texts_in_args(config, FILE)]
    return list(dict.fromkeys(d.resolve() for d in found))


def _texts_in_args(config: pytest.Config, name: str) -> Iterator[Path]:
    """The files called name beside the run's test modules: in the directory of each file
    argument, and under each directory argument where pytest would collect."""
    skip = config.getini("norecursedirs")
    for arg in config.args:
        path = (config.invocation_params.dir / arg.partition("::")[0]).resolve()
        if path.is_file() and (path.parent / name).is_file():
            yield path.parent / name
        if not path.is_dir():
            continue
        for top, dirs, files in os.walk(path):
            # Pruned as pytest prunes its collection: .git, virtualenvs, build directories...
            dirs[:] = [
                d
                for d in dirs
                if not any(fnmatch(d, pat) for pat in skip)
                and not (Path(top, d) / "pyvenv.cfg").exists()
            ]
            if name in files:
                yield Path(top, name)


def _by_hand(item: pytest.Item, report: pytest.TestReport, outcome: str) -> None:
    """What to do by hand, for a check that failed or warned, or whose fix failed: its
    catalog's text with the failing parameters, as a property and under the failure."""
    fix_failed = prop(item.user_properties, "fix_failed") is not None
    if outcome not in (outcomes.FAILED, outcomes.WARNING) and not (
        outcome == outcomes.ERROR and fix_failed
    ):
        return
    meta = meta_of(item)
    template = item.config.stash.get(_TEXTS, {}).get(meta.id) if meta else None
    if template is None:
        return
    from kit.catalog import byhand

    text = byhand.render(template, check_params(item))
    item.user_properties.append((BY_HAND, text))
    # The parameters are the profile's or an inventory's, the failure's the host's: the
    # line is escaped like the rest of what the terminal shows of a check.
    line = printable(text)
    if isinstance(report.longrepr, str):
        report.longrepr = f"{report.longrepr}\nby hand: {line}"
    elif report.longrepr is not None and hasattr(report.longrepr, "addsection"):
        report.longrepr.addsection("by hand", line)  # --tb=long and the like
