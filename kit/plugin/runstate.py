"""What the plugin keeps for one run, in the config's stash: hosts, profiles, fixes, tally.

The hooks (kit.plugin.hooks) and the modules they hand over to find it under `STATE`;
nothing here imports them back.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from kit.catalog.check import meta_of
from kit.plugin import batch, collected, selection, shard, waivers
from kit.plugin import fix as fixflow
from kit.plugin.outcomes import Tally

if TYPE_CHECKING:
    from kit.plugin import waves
    from kit.plugin.fixhost import HostFixes
    from kit.plugin.hosts import HostContext, HostRegistry
    from kit.plugin.planning import ProfilePlan

STATE = pytest.StashKey["RunState"]()
SHARD = pytest.StashKey[shard.Shard]()
INVENTORY_BACKEND = pytest.StashKey[str]()  # which reader read --inventory
AUTO_WORKERS = pytest.StashKey[str]()  # the header line saying what -n auto chose


class RunState:
    def __init__(self, config: pytest.Config, registry: HostRegistry, plan: ProfilePlan) -> None:
        self.fix: bool = config.getoption("hostkit_fix")
        # pytest's own --strict (the `strict` ini value) also makes warnings fail the run.
        self.strict: bool = bool(config.getini("strict"))
        self.settings = fixflow.Settings(
            dry_run=config.getoption("hostkit_dry_run"),
            max_disruption=config.getoption("hostkit_max_disruption"),
            verbose=config.option.verbose > 0,
            strict=self.strict,
            named=frozenset(selection.patterns(config.getoption("hostkit_check"))),
            before_write=_drop_read_batches,
        )
        self.registry = registry
        self.plan = plan
        self.profile = plan.default
        self.tally = Tally()
        # One id for the whole run; xdist workers receive the controller's.
        workerinput = getattr(config, "workerinput", {})
        self.run_id: str = workerinput.get("hostkit_run_id") or _new_run_id()
        self.lock_timeout: float = config.getoption("hostkit_fix_lock_timeout")
        self.runs_dir: str = config.getini("hostkit_runs_dir")
        self.lock_dir: str = config.getini("hostkit_lock_dir")
        self.hosts: dict[str, HostFixes] = {}
        self._hosts_lock = threading.Lock()  # hosts' fixes may run on threads (kit.plugin.fixpool)
        self.waivers = waivers.Waivers()
        self.groups: dict[str, frozenset[str]] = {}  # inventory host label -> its groups
        self.waves: waves.Ledger | None = None  # --fix-batch: set once the hosts are known

    def waiver_for(self, item: pytest.Item) -> waivers.Waiver | None:
        meta = meta_of(item)
        if meta is None or not self.waivers.entries:
            return None
        label = collected.host_label(item)
        return self.waivers.match(meta.id, label, self.groups.get(label or "", ()))

    def fixes_for(self, ctx: HostContext) -> HostFixes:
        with self._hosts_lock:
            if ctx.key not in self.hosts:
                # Only a run with fixes loads the host lock and journal session.
                from kit.plugin.fixhost import HostFixes

                self.hosts[ctx.key] = HostFixes(
                    ctx, self.run_id, self.lock_timeout, self.runs_dir, self.lock_dir
                )
            return self.hosts[ctx.key]

    def close_fixes(self) -> None:
        for host in self.hosts.values():
            host.close()
        self.hosts.clear()


def _drop_read_batches() -> None:
    """A fix writes its host: no read answered from a batch gathered before may be used
    after (kit.plugin.batch), on that host or, as two hosts may be one machine, any other."""
    batcher = batch.active()
    if batcher is not None:
        batcher.invalidate()


def _new_run_id() -> str:
    # Loaded here, not at import: an xdist worker takes its controller's id.
    from kit.plugin.fixhost import new_run_id

    return new_run_id()
