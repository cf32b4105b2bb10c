"""The --fix flow for one failing check: remediate, refresh facts, check again.

A remediation runs only at or below --max-disruption. On the host it runs inside
the run's journal, so every file it changes is saved first; when it raises, what
it changed is put back and the check reports one line saying where it failed.
"""

from __future__ import annotations

import reprlib
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from kit.catalog.remediation import DISRUPTIONS, RemediationMeta, Target
from kit.connection.planning import FileChange, FileChanges, PlanningConnection, recording
from kit.errors import (
    ConnectError,
    FixRefused,
    KitError,
    PlanWriteError,
    WriteInterrupted,
)
from kit.facts.sections import sections_of
from kit.facts.view import reads_of
from kit.plugin import outcomes
from kit.plugin.tense import conditional
from kit.plugin.waves import held_back_line
from kit.runner import nottaken
from kit.runner.change import Change, private_diff

if TYPE_CHECKING:
    from kit.catalog.check import CheckMeta
    from kit.plugin.fixhost import HostFixes
    from kit.plugin.hosts import HostContext
    from kit.plugin.waves import Ledger
    from kit.runner.journal import Journal

HOST_PARAM = "_testinfra_host"
OUTCOME = pytest.StashKey[str]()  # what the flow decided, when it differs from pytest's
# A user property: one file a fix changed (or would), from the run's original content to
# what it holds after this fix; the last one per host and path is the run's diff of it.
FILE_DIFF = "file_diff"
UNDECLARED = RemediationMeta(reboot=False, strategy="configure", disruption="high")
# Hosts' fixes may run on threads of their own (kit.plugin.fixpool): the map of each
# host's files is shared by them, each host's entry is its thread's alone.
_FILES_LOCK = threading.Lock()


class RemediationFailed(KitError):
    """A remediation raised instead of returning its changes."""


class StillFailing(AssertionError):
    """The check failed again after its fix; reason is the re-check's own first line."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Settings:
    dry_run: bool
    max_disruption: str
    verbose: bool
    # Whether a warning check's fix runs: under --strict, or for a check --check names by
    # its id (not by a glob), and never otherwise (issue 23: swap may be deliberate).
    strict: bool = False
    named: frozenset[str] = frozenset()
    # Per host key, the files its fixes changed, or planned to, in this run.
    files: dict[str, FileChanges] = field(default_factory=dict, compare=False, repr=False)
    # Called before a fix writes a host, and after: the run drops its batched reads there
    # (kit.plugin.runstate), which this module cannot import (kit.plugin.batch imports it).
    before_write: Callable[[], None] = field(default=lambda: None, compare=False, repr=False)

    def files_of(self, ctx: HostContext) -> FileChanges:
        with _FILES_LOCK:
            return self.files.setdefault(ctx.key, FileChanges())


def add_options(group: pytest.OptionGroup) -> None:
    group.addoption(
        "--fix-retry",
        action="store_true",
        dest="hostkit_fix_retry",
        help="with --fix: make again a fix that was made on an earlier run and did not take "
        "(its check still failed after it); without it such a fix is held back",
    )
    group.addoption(
        "--fix-parallel",
        type=int,
        default=None,
        metavar="N",
        dest="hostkit_fix_parallel",
        help="with --fix, in a run without -n: how many hosts of a wave are checked and fixed "
        "at once, each on a thread of its own (default: the wave's hosts, at most 8; "
        "1: one host after another)",
    )


def name_of(fix: Callable[..., Any]) -> str:
    return f"{fix.__module__}.{fix.__qualname__}"


def meta_of(fix: Callable[..., Any]) -> RemediationMeta:
    """What the remediation declares; one that declares nothing counts as high disruption."""
    return getattr(fix, "hostkit_remediation", UNDECLARED)


def exceeds(disruption: str, limit: str) -> bool:
    return DISRUPTIONS.index(disruption) > DISRUPTIONS.index(limit)


def check_params(item: pytest.Item) -> dict[str, Any]:
    """The check's own parameters, whoever supplied them (a profile or a parametrize)."""
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec else {}
    return {k: v for k, v in params.items() if k != HOST_PARAM}


def apply(fix: Callable[..., Any], target: Target, params: Mapping[str, Any]) -> list[Change]:
    """Run fix(target, **params); it returns a Change, several, or None for no change."""
    try:
        result = fix(target, **params)
    except FixRefused:
        raise
    except Exception as exc:
        raise RemediationFailed(f"remediation {name_of(fix)} failed: {exc}") from exc
    if result is None:
        return []
    if isinstance(result, Change):
        return [result]
    if not isinstance(result, Iterable) or isinstance(result, str | bytes | Mapping):
        raise RemediationFailed(
            f"remediation {name_of(fix)} returned {_shown(result)}, not a Change"
        )
    changes = list(result)
    for change in changes:
        if not isinstance(change, Change):
            raise RemediationFailed(
                f"remediation {name_of(fix)} returned a {type(result).__name__} holding "
                f"{_shown(change)}, not a Change"
            )
    return changes


def _shown(value: object) -> str:
    """A value's type and a short repr: what a remediation returned, for its author. (The
    terminal escapes what it shows; escaping here too would show backslashes doubled.)"""
    try:
        text = reprlib.repr(value)
    except Exception:  # a broken __repr__ must not hide the real mistake
        text = "(no repr)"
    return f"{type(value).__name__} {text}"


def remediate(
    item: pytest.Item,
    ctx: HostContext,
    check: CheckMeta,
    first: AssertionError,
    settings: Settings,
    host: HostFixes | None,
) -> str:
    """The outcome of repairing a failing check; raises (as the check would) unless fixed."""
    assert check.fix is not None
    fix, declared, params = check.fix, meta_of(check.fix), check_params(item)
    if exceeds(declared.disruption, settings.max_disruption):
        what = _would_do(fix, ctx, params)
        note = f"fix needs --max-disruption={declared.disruption}: {what}"
        item.user_properties.append(("held_back", note))
        raise _still_failing(first, note)
    if check.severity == "warning" and not (settings.strict or check.id in settings.named):
        note = (
            f"fix not run: {check.id} is a warning check; its fix runs only with --strict "
            f"or when the check is named (--check {check.id})"
        )
        item.user_properties.append(("held_back", note))
        raise _still_failing(first, note)
    if settings.dry_run:
        return _plan(item, ctx, fix, params, first, settings)
    assert host is not None
    key = nottaken.params_key(ctx.label, params)
    earlier = host.not_taken(check.id, key)
    if earlier is not None and not item.config.getoption("hostkit_fix_retry", False):
        note = (
            f"fix not repeated: it was made in run {earlier.run} and the check still failed: "
            f"{earlier.error}; remove the cause, or pass --fix-retry to make it again"
        )
        item.user_properties.append(("held_back", note))
        raise _still_failing(first, note)
    why_not = host.prepare()
    item.user_properties += [("notice", n) for n in host.notices]
    host.notices.clear()
    if why_not:
        item.user_properties.append(("held_back", f"fix held back: {why_not}"))
        raise _still_failing(first, f"fix held back: {why_not}")
    assert host.journal is not None
    changes = _apply_journaled(item, ctx, check, fix, params, host, settings, first)
    for change in (c for c in changes if c.changed):
        # With its own diff, as a planned change has: the reports are the audit trail.
        text = change.summary + ("\n" + change.diff if change.diff else "")
        item.user_properties.append(("fix", text))
    if declared.reboot and any(c.changed for c in changes):
        item.user_properties.append(("reboot_required", name_of(fix)))
    settings.before_write()  # batches gathered while it ran (two hosts may be one machine)
    try:
        recheck(item, ctx, fix, changes, first)
    except StillFailing as still:
        # Noted so the next run does not make the same change for nothing. Not for a fix
        # that needs a reboot: before it, the check cannot tell whether the fix took.
        if not declared.reboot:
            note = dict(check=check.id, params=key, passed=False, error=still.reason)
            host.journal.note(event=nottaken.EVENT, **note)
        raise
    if earlier is not None:  # made again, and it took this time: the old note is void
        host.journal.note(event=nottaken.EVENT, check=check.id, params=key, passed=True)
    return outcomes.FIXED


def _apply_journaled(
    item: pytest.Item,
    ctx: HostContext,
    check: CheckMeta,
    fix: Callable[..., Any],
    params: Mapping[str, Any],
    host: HostFixes,
    settings: Settings,
    first: AssertionError,
) -> list[Change]:
    journal = host.journal
    assert journal is not None
    files = settings.files_of(ctx)
    mark = files.mark()
    settings.before_write()
    with journal.fix(check.id), recording(ctx.conn, files):
        try:
            target = Target(ctx.conn, ctx.view(), max_disruption=settings.max_disruption)
            changes = apply(fix, target, params)
            _flush(journal, fix)
            _note_files(item, files.since(mark))
            return changes
        except (FixRefused, RemediationFailed) as exc:
            files.undo(mark)
            # What it did before it failed may stand (a live change, one no step records):
            # the facts are stale for the host's later checks, as after a fix that took.
            ctx.wrote()
            # What the remediation raised; a RemediationFailed of its own when it raised
            # nothing (it returned something other than a Change).
            cause = exc.__cause__ or exc
            step = journal.in_flight or journal.last_step or "its first step"
            if isinstance(cause, ConnectError | WriteInterrupted):
                host.lost(str(cause))
                message = (
                    f"connection lost during the fix, at {step}; the journal in "
                    f"{journal.dir} on the host records the step in flight"
                )
            else:
                message = _undo(journal, check.id, step, cause)
    # Outside the handler and from None: the report is this one line, not a chain of causes.
    detail = "".join(traceback.format_exception(cause)) if cause else message
    item.user_properties += [("fix_failed", message), ("fix_error", detail)]
    refused = isinstance(cause, FixRefused)
    item.stash[OUTCOME] = outcomes.FAILED if refused else outcomes.ERROR
    text = f"{message}\n{first}" + ("\n" + detail if settings.verbose else "")
    raise pytest.fail.Exception(text, pytrace=False) from None


def _flush(journal: Journal, fix: Callable[..., Any]) -> None:
    """The fix's last step on record as done, as the fix ends: a connection lost there is
    lost during the fix, as anywhere in it."""
    try:
        journal.flush()
    except KitError as exc:
        raise RemediationFailed(f"remediation {name_of(fix)} failed: {exc}") from exc


def hold_for_wave(item: pytest.Item, ledger: Ledger, label: str, first: AssertionError) -> None:
    """--fix-batch: fail the check unfixed when an earlier wave had too many failed fixes."""
    wave = ledger.stopped_by(label)
    if wave is not None:
        note = held_back_line(wave)
        item.user_properties.append(("held_back", note))
        raise _still_failing(first, note)


def _undo(journal: Journal, check_id: str, step: str, cause: BaseException | None) -> str:
    """Put back what the failed fix changed; the one line that says how it ended."""
    refused = isinstance(cause, FixRefused)
    error = cause.reason if isinstance(cause, FixRefused) else str(cause)
    head = f"fix refused: {error}" if refused else f"fix failed at {step}: {error}"
    live = list(journal.live_done)
    try:
        restored = journal.rollback()
    except KitError as exc:
        return f"{head}; putting files back failed too: {exc}"
    journal.note(event="fix-failed", check=check_id, step=step, error=error[:300])
    if not restored and not live:
        return f"{head}; host unchanged"
    parts = []
    if restored:
        parts.append(f"restored {len(restored)} file{'s' if len(restored) != 1 else ''}")
    if live:
        parts.append(f"left as changed: {', '.join(live)}")
    return f"{head}; {'; '.join(parts)}"


def _plan(
    item: pytest.Item,
    ctx: HostContext,
    fix: Callable[..., Any],
    params: Mapping[str, Any],
    first: AssertionError,
    settings: Settings,
) -> str:
    """--dry-run: what the fix would change, or why it would be refused; the check fails.

    It plans on what the host's earlier fixes in this run would have left."""
    files = settings.files_of(ctx)
    mark = files.mark()
    planning = PlanningConnection(ctx.conn, files)
    target = Target(planning, ctx.view(), dry_run=True, max_disruption=settings.max_disruption)
    try:
        changes = apply(fix, target, params)
    except FixRefused as exc:
        files.undo(mark)
        item.user_properties.append(("planned", f"refused: {exc.reason}"))
        raise _still_failing(first, f"fix would be refused: {exc.reason}") from None
    except RemediationFailed as exc:
        files.undo(mark)
        if not isinstance(exc.__cause__, PlanWriteError):
            raise
        note = f"fix cannot be planned: {exc.__cause__}"
        item.user_properties.append(("planned", note))
        raise _still_failing(first, note) from None
    _note_files(item, files.since(mark))
    for change in (c for c in changes if c.changed):
        text = conditional(change.summary) + ("\n" + change.diff if change.diff else "")
        item.user_properties.append(("planned", text))
    raise first


def _note_files(item: pytest.Item, changed: list[FileChange]) -> None:
    for file in changed:
        item.user_properties.append((FILE_DIFF, file_diff(file)))


def file_diff(file: FileChange) -> str:
    """`created PATH` or `changed PATH`, then its diff from the run's original content."""
    verb = "created" if file.created else "changed"
    if file.content == file.original:  # a later fix put it back: nothing to show
        return f"{verb} {file.path}\n"
    diff = private_diff(file.path, file.original, file.content, readable=not file.private)
    return f"{verb} {file.path}\n{diff}"


def _would_do(fix: Callable[..., Any], ctx: HostContext, params: Mapping[str, Any]) -> str:
    """What a held-back fix would change, from planning it; its docstring if planning fails."""
    try:
        changes = apply(fix, Target(PlanningConnection(ctx.conn), ctx.view(), dry_run=True), params)
    except FixRefused as exc:
        return f"refused anyway: {exc.reason}"
    except KitError:
        changes = []  # a PlanWriteError too: the remediation cannot say what it would do
    done = [conditional(c.summary) for c in changes if c.changed]
    if done:
        return "; ".join(done)
    doc = (fix.__doc__ or "").strip().splitlines()
    return doc[0] if doc else name_of(fix)


def _still_failing(first: AssertionError, note: str) -> AssertionError:
    return AssertionError(f"{first}\n{note}")


def recheck(
    item: pytest.Item,
    ctx: HostContext,
    fix: Callable[..., Any],
    changes: list[Change],
    first: AssertionError,
) -> None:
    """Run the check again on fresh facts; raise an AssertionError showing both attempts.

    After the fix every fact may have changed (kit.plugin.hosts: each is gathered again
    when next read). The re-check gathers at once, in one round trip, the sections of the
    fields its check read (kit.facts.sections); a field it reads only now is gathered
    when it does. A check that does not take `facts` sends only what it sends."""
    funcargs = getattr(item, "funcargs", {})
    read = reads_of(funcargs.get("facts"))
    ctx.wrote()
    if "facts" in funcargs:
        if read is None:  # facts given by other means: what was read is unknown
            funcargs["facts"] = ctx.facts
        else:
            ctx.update(sections_of(read))
            funcargs["facts"] = ctx.view()
    try:
        item.runtest()
    except AssertionError as second:
        done = "\n".join(f"  {c}" for c in changes) or "  (no change)"
        reason = (str(second).splitlines() or ["the check failed"])[0][:300]
        raise StillFailing(
            f"still failing after remediation: {reason}\n-- before --\n{first}\n"
            f"-- remediation {name_of(fix)} --\n{done}\n-- after --\n{second}",
            reason,
        ) from None
