"""Collection: each check parametrized by the profiles' values, then, for each host, only
the checks and parameter sets of its own profile, in the profile's order, host by host;
--shard keeps its share of the hosts, and --fix-batch puts them in waves.

--check and --skip-check narrow the selection further (kit.plugin.selection).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from kit.catalog.check import meta_of
from kit.plugin import collected, waves
from kit.plugin import fix as fixflow
from kit.plugin.runstate import SHARD, STATE, RunState

if TYPE_CHECKING:
    from kit.catalog.check import CheckMeta
    from kit.plugin.planning import ProfilePlan


def parametrize(metafunc: pytest.Metafunc) -> None:
    """A check that takes its values from the profile gets every host's profile's sets."""
    mark = metafunc.definition.get_closest_marker("hostkit_check")
    if mark is None:
        return
    meta: CheckMeta = mark.args[0]
    if meta.params is None:
        return
    plan: ProfilePlan = metafunc.config.stash[STATE].plan
    # Every host's parameter sets, once each; collection then keeps, for each host, the
    # sets its own profile lists (testinfra has parametrized the host already).
    values: list[tuple[Any, ...]] = []
    for prof in plan.all():
        if prof is not plan.default and prof.order_of(meta.id) is None:
            continue
        own = prof.values(meta.params)
        if any(len(v) != len(meta.argnames) for v in own):
            raise pytest.UsageError(
                f"profile {prof.name}: params.{meta.params} entries must have "
                f"{len(meta.argnames)} value(s) for check {meta.id}"
            )
        values += [v for v in own if v not in values]
    metafunc.parametrize(list(meta.argnames), values, ids=[collected.param_id(v) for v in values])


def _selected(plan: ProfilePlan, item: pytest.Item, meta: CheckMeta) -> tuple[bool, bool]:
    """Whether the item's host profile lists its check, and lists its parameter set."""
    prof = plan.for_label(collected.host_label(item))
    if not prof.checks:
        return True, True
    if prof.order_of(meta.id) is None:
        return False, False
    if meta.params is None:
        return True, True
    params, sets = fixflow.check_params(item), prof.values(meta.params)
    if not sets or not all(name in params for name in meta.argnames):
        return True, True  # pytest's "empty parameter set" skip, or the check's own values
    return True, tuple(params[name] for name in meta.argnames) in sets


def select_and_order(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep each host's own checks, with their host and check properties, in run order."""
    state: RunState = config.stash[STATE]
    _keep_shard(config, items)
    plan = state.plan
    keep: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    for item in items:
        meta = meta_of(item)
        if meta:
            listed, own = _selected(plan, item, meta)
            if not listed:
                dropped.append(item)
                continue
            if not own:
                continue  # another host's parameter set
        label = collected.host_label(item)
        if label:
            item.user_properties.append(("host", label))
        if meta:
            item.user_properties += [("check_id", meta.id), ("severity", meta.severity)]
            collected.concise_failures(item, meta.id)
        keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    if dropped and not keep:
        names = ", ".join(dict.fromkeys(p.name for p in plan.all()))
        raise pytest.UsageError(
            f"profile {names} selects none of the {len(dropped)} collected check(s): "
            "choose another --profile or add their ids to the profile's checks"
        )
    collected.set_probes(keep)
    labels = [c.label for c in state.registry]

    def order(pair: tuple[int, pytest.Item]) -> tuple[int, int, int]:
        index, item = pair
        label = collected.host_label(item)
        host_rank = labels.index(label) if label in labels else len(labels)
        meta = meta_of(item)
        prof = plan.for_label(label)
        rank = prof.order_of(meta.id) if meta else None
        return (host_rank, rank if rank is not None else len(prof.checks), index)

    items[:] = [item for _, item in sorted(enumerate(keep), key=order)]
    state.waves = _plan_waves(config, items)


def _plan_waves(config: pytest.Config, items: list[pytest.Item]) -> waves.Ledger | None:
    """--fix-batch: the hosts in waves, in the order their checks run (grouped by host)."""
    batch = config.getoption("hostkit_fix_batch")
    if batch is None:
        return None
    limit = config.getoption("hostkit_max_fail_percentage")
    tests = {item.nodeid: collected.host_label(item) for item in items}
    hosts = {nodeid: label for nodeid, label in tests.items() if label is not None}
    planned = waves.split(list(hosts.values()), waves.parse_batch(batch))
    share = waves.parse_fail_percentage(limit) if limit is not None else 0.0
    directory = getattr(config, "workerinput", {}).get(waves.DIR_KEY)
    if directory is None:
        return waves.Ledger(planned, share)
    if not Path(directory).is_dir():
        raise pytest.UsageError("--fix-batch under xdist needs its workers on this machine (-n)")
    timeout = waves.parse_timeout(config.getini("hostkit_wave_timeout"))
    ledger = waves.Shared(planned, share, Path(directory), hosts, timeout)
    config.pluginmanager.register(ledger, "hostkit-waves-worker")
    return ledger


def _keep_shard(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--shard: only this shard's hosts' items; those of no host go to shard 0 alone, so
    that the shards together run every item once."""
    part = config.stash.get(SHARD, None)
    if part is None:
        return
    others = []
    for item in items:
        label = collected.host_label(item)
        if not (part.keeps(label) if label is not None else part.index == 0):
            others.append(item)
    if others:
        config.hook.pytest_deselected(items=others)
        gone = {id(i) for i in others}
        items[:] = [i for i in items if id(i) not in gone]
