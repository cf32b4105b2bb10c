"""The packages of a host's fixes, installed in one package-manager call before they run.

Each fix that needs a package would otherwise run its own install (and its own
simulation first): on a slow host, minutes each. Before a host's checks run on its
thread (kit.plugin.fixpool), the checks whose fix may install packages (declared
`installs=True`) and would be allowed to run are checked; each failing one's fix is
planned, as --dry-run plans it, to learn what it would install; when two or more fixes
would install packages, those are installed together (kit.runner.packages.
install_together), as one step of the run's journal. Each fix then runs as always and
finds its packages installed, and says so.

A check whose fix's packages were installed so is not run again in its turn: its verdict
is the failure it had before the run changed the host, and its fix runs as it would have
(it finds its packages installed, and says it installed them). When the install fails
(a package no repository has, one that would remove an installed package), nothing is
taken for installed: each fix installs its own, and fails or succeeds on its own with
its own message.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import pytest

from kit.catalog.check import meta_of
from kit.catalog.remediation import Target
from kit.connection.planning import PlanningConnection
from kit.errors import KitError
from kit.plugin import fix as fixflow
from kit.plugin import reboot
from kit.runner import nottaken, packages

if TYPE_CHECKING:
    from kit.plugin.fixhost import HostFixes
    from kit.plugin.hosts import HostContext
    from kit.plugin.runstate import RunState

# Bounds what one journal entry says of which fix needed what.
MAX_NEEDS = 4000


def candidate(state: RunState, item: pytest.Item) -> bool:
    """Whether the check's fix may install packages and would run if the check failed: the
    same gates as kit.plugin.fix.remediate's, but for the host's own (read when it runs)."""
    meta = meta_of(item)
    if meta is None or meta.fix is None or not fixflow.meta_of(meta.fix).installs:
        return False
    settings = state.settings
    if settings.dry_run or fixflow.exceeds(
        fixflow.meta_of(meta.fix).disruption, settings.max_disruption
    ):
        return False
    if meta.severity == "warning" and not (settings.strict or meta.id in settings.named):
        return False
    return state.waiver_for(item) is None and not reboot.rechecking(item)


def install_ahead(
    state: RunState,
    ctx: HostContext,
    items: Iterable[pytest.Item],
    fails: Callable[[pytest.Item], AssertionError | None],
) -> dict[str, AssertionError]:
    """Install together the packages the fixes of the host's failing checks among items
    would install, when two or more would. What each of those checks failed with, by node
    id, once its packages are installed; nothing when it was not worth it, or failed (each
    fix installs its own then). fails(item) runs the check: its failure, or None."""
    chosen = [item for item in items if candidate(state, item)]
    ledger = state.waves
    if len(chosen) < 2 or (ledger is not None and ledger.stopped_by(ctx.label) is not None):
        return {}
    host = state.fixes_for(ctx)
    if host.packages_planned:
        return {}
    host.packages_planned = True
    needs: dict[str, tuple[str, ...]] = {}
    failed: dict[str, AssertionError] = {}
    for item in chosen:
        planned = _planned(state, ctx, host, item, fails)
        if planned is not None:
            first, wanted = planned
            needs[_name(item)], failed[item.nodeid] = wanted, first
    if len(needs) < 2 or host.prepare() is not None:
        return {}  # one fix installs its own in one call anyway; a held host says why
    assert host.journal is not None
    state.settings.before_write()
    try:
        with host.journal.fix(_truncated(" ".join(needs))):
            packages.install_together(ctx.conn, ctx.facts, _bounded(needs))
    except KitError:
        return {}  # recorded as failed when it got as far as the install; see above
    finally:
        state.settings.before_write()
        # The facts the fixes were planned on are older than the install.
        ctx.wrote()
    return failed


def in_pytest_loop(item: pytest.Item, ctx: HostContext, first: AssertionError) -> None:
    """The same, in pytest's own loop (--fix-parallel 1, -x: kit.plugin.fixpool is not
    there), when the host's first check fails: for it and the host's checks after it that
    could run on a thread. The failures of the later ones are kept on the host's fixes,
    for kit.plugin.fixentry to fix them when they pass in their turn. Not under xdist,
    where a worker may not run every check of its host."""
    from kit.plugin import collected, fixdetached
    from kit.plugin.runstate import STATE

    state: RunState = item.config.stash[STATE]
    host = state.fixes_for(ctx)
    if host.packages_planned or hasattr(item.config, "workerinput"):
        return
    items = item.session.items
    at = items.index(item) if item in items else len(items)
    later = [i for i in items[at:] if collected.host_label(i) == ctx.label]

    def fails(check: pytest.Item) -> AssertionError | None:
        if check is item:
            return first
        if isinstance(check, pytest.Function) and fixdetached.eligible(check):
            return fixdetached.fails(check, ctx)
        return None

    found = install_ahead(state, ctx, later, fails)
    found.pop(item.nodeid, None)
    host.failed_ahead.update(found)


def _planned(
    state: RunState,
    ctx: HostContext,
    host: HostFixes,
    item: pytest.Item,
    fails: Callable[[pytest.Item], AssertionError | None],
) -> tuple[AssertionError, tuple[str, ...]] | None:
    """The check's failure and what its fix would install, when it fails now, its fix would
    run and would install something; None otherwise, or when the fix cannot be planned
    (it says why when it runs)."""
    meta = meta_of(item)
    assert meta is not None and meta.fix is not None
    params = fixflow.check_params(item)
    earlier = host.not_taken(meta.id, nottaken.params_key(ctx.label, params))
    if earlier is not None and not item.config.getoption("hostkit_fix_retry", False):
        return None
    try:
        first = fails(item)
        if first is None:
            return None
        target = Target(
            PlanningConnection(ctx.conn),
            ctx.facts,
            dry_run=True,
            max_disruption=state.settings.max_disruption,
        )
        with packages.collecting() as wanted:
            fixflow.apply(meta.fix, target, params)
    except KitError:
        return None
    return (first, tuple(wanted)) if wanted else None


def _name(item: pytest.Item) -> str:
    """The check's id and its own parameters' values: `t.exec[socat]`."""
    meta = meta_of(item)
    assert meta is not None
    values = ",".join(str(v) for v in fixflow.check_params(item).values())
    return f"{meta.id}[{values}]" if values else meta.id


def _truncated(text: str) -> str:
    return text if len(text) <= 200 else text[:197] + "..."


def _bounded(needs: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """needs with its names cut so the journal's entry stays bounded."""
    room = MAX_NEEDS // max(len(needs), 1)
    return {name[:room]: wanted for name, wanted in needs.items()}
