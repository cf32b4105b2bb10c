"""The fix flow's entry: what becomes of a check whose assertion failed.

Without --fix, or for a waived check or one run again after its reboot, the failure
stands. Under --fix the check's paired remediation runs (kit.plugin.fix), inside its
host's wave under --fix-batch (kit.plugin.waves), and the item's outcome records what
the flow decided where it differs from pytest's own.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import pytest

from kit.catalog.check import meta_of
from kit.errors import KitError
from kit.plugin import collected, outcomes, reboot
from kit.plugin import fix as fixflow
from kit.plugin.runstate import STATE, RunState

if TYPE_CHECKING:
    from kit.catalog.check import CheckMeta
    from kit.plugin.fixhost import HostFixes
    from kit.plugin.hosts import HostContext

ITEM_OUTCOME = fixflow.OUTCOME


def around_call(item: pytest.Item) -> Generator[None, Any, Any]:
    """The body of a `pytest_runtest_call` wrapper: runs the check at its `yield`."""
    try:
        result = yield
    except AssertionError as first:
        after_failure(item, first)
        return None
    except Exception:
        item.stash[ITEM_OUTCOME] = outcomes.ERROR
        raise
    # Passing now since its packages were installed ahead (kit.plugin.fixpackages): its
    # verdict is the failure it had before, and its fix runs as it would have.
    failed = _failed_ahead(item)
    if failed is not None:
        after_failure(item, failed)
    return result


def _failed_ahead(item: pytest.Item) -> AssertionError | None:
    state: RunState = item.config.stash[STATE]
    ctx = collected.context(item)
    if not state.fix or ctx is None or state.settings.dry_run or ctx.key not in state.hosts:
        return None
    return state.fixes_for(ctx).failed_ahead.pop(item.nodeid, None)


def run_check(item: pytest.Item, failed: AssertionError | None = None) -> None:
    """The check and what becomes of its failure, as around_call has it, for a check run
    outside pytest's call (on a host's thread, kit.plugin.fixpool). failed: the check's
    failure from a run of it before this one (kit.plugin.fixpackages), which stands."""
    try:
        if failed is not None:
            raise failed
        item.runtest()
    except AssertionError as first:
        after_failure(item, first)
    except Exception:
        item.stash[ITEM_OUTCOME] = outcomes.ERROR
        raise


def after_failure(item: pytest.Item, first: AssertionError) -> None:
    """A failed check: returns when its fix made it pass, else raises what it reports."""
    __tracebackhide__ = True  # the check's traceback is the check's, not this function's
    state: RunState = item.config.stash[STATE]
    meta = meta_of(item)
    ctx = collected.context(item)
    # A waived check's state is accepted as it is: neither fixed nor planned.
    waived = state.fix and state.waiver_for(item) is not None
    # Checked again after a reboot: the verdict is the check's own, fixed or not.
    if not (state.fix and meta and meta.fix and ctx) or waived or reboot.rechecking(item):
        item.stash[ITEM_OUTCOME] = outcomes.FAILED
        raise first
    host = None if state.settings.dry_run else state.fixes_for(ctx)
    # In pytest's own loop (on a host's thread, kit.plugin.fixpool looked before its checks).
    if host is not None and not host.packages_planned and isinstance(item, pytest.Item):
        from kit.plugin import fixpackages

        fixpackages.in_pytest_loop(item, ctx, first)
    try:
        outcome = _remediate(item, ctx, meta, first, state, host)
    except AssertionError:
        item.stash[ITEM_OUTCOME] = outcomes.FAILED
        raise
    except KitError as exc:
        if not state.settings.dry_run:
            item.stash[ITEM_OUTCOME] = outcomes.ERROR
            raise
        # Planning is a forecast: when it cannot be made, the check's verdict is still
        # its own (a warning stays a warning), and the plan says why it is missing.
        note = f"cannot plan: {exc.__cause__ or exc}"
        item.user_properties.append(("planned", note))
        item.stash[ITEM_OUTCOME] = outcomes.FAILED
        raise AssertionError(f"{first}\n{note}") from None
    item.stash[ITEM_OUTCOME] = outcome


def _remediate(
    item: pytest.Item,
    ctx: HostContext,
    meta: CheckMeta,
    first: AssertionError,
    state: RunState,
    host: HostFixes | None,
) -> str:
    """The fix flow, inside the host's wave under --fix-batch: held back when an earlier
    wave went wrong, and counted against its own wave when it fails."""
    ledger = None if state.settings.dry_run else state.waves
    if ledger is None:
        return fixflow.remediate(item, ctx, meta, first, state.settings, host)
    held_before = _held_backs(item)
    fixflow.hold_for_wave(item, ledger, ctx.label, first)
    try:
        return fixflow.remediate(item, ctx, meta, first, state.settings, host)
    except BaseException:
        # Held back (too disruptive, host busy) is a fix not run, not a fix that failed;
        # one that waits for its reboot is judged after it (kit.plugin.reboot).
        if _held_backs(item) == held_before and not reboot.awaits(item):
            ledger.record_failure(ctx.label)
        raise


def _held_backs(item: pytest.Item) -> int:
    return sum(key == "held_back" for key, _ in item.user_properties)
