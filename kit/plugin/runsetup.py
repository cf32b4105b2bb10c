"""Setting a run up from its options, and taking it down: the hosts, their connections'
defaults, the profile plan, waivers, and the plugins a run of this kind needs.

Every mistake found here is one usage error (exit code 4) before any host is touched.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest

from kit import reports
from kit.catalog.check import TAGS
from kit.connection.spec import parse
from kit.errors import KitError, KitValueError
from kit.plugin import (
    backend,
    batch,
    checkreport,
    hostopts,
    hosts,
    planning,
    reboot,
    runnotes,
    selection,
    shard,
    startup,
    theirs,
    waivers,
    warmup,
    waves,
)
from kit.plugin.hosts import HostRegistry
from kit.plugin.runstate import AUTO_WORKERS, INVENTORY_BACKEND, SHARD, STATE, RunState

if TYPE_CHECKING:
    from kit.inventory import InventoryHost
    from kit.plugin.planning import ProfilePlan

NEEDS_HOSTS = "--fix needs explicit hosts; use --hosts=local:// to fix this machine"


def configure(config: pytest.Config) -> None:
    """Check the options, register the hosts and start connecting, plan the profiles, and
    register what the run's options ask for; raise pytest.UsageError for a mistake."""
    for name, help_text in (
        ("hostkit_check(meta)", "a hostkit check (set by @kit.catalog.check.check)"),
        ("error", "check severity: a failure fails the run"),
        ("warning", "check severity: a failure fails the run only under --strict"),
    ):
        config.addinivalue_line("markers", f"{name}: {help_text}")
    for tag in TAGS:
        config.addinivalue_line("markers", f"{tag}: hostkit checks tagged {tag}")
    if config.getoption("hostkit_dry_run") and not config.getoption("hostkit_fix"):
        raise pytest.UsageError("--dry-run plans fixes: use it together with --fix")
    explicit = config.option.hosts or config.getoption("hostkit_inventory")
    if config.getoption("hostkit_shard"):
        try:
            config.stash[SHARD] = shard.parse(config.getoption("hostkit_shard"), os.environ)
        except KitError as exc:
            raise pytest.UsageError(str(exc)) from None
    if config.getoption("hostkit_fix") and not explicit:
        raise pytest.UsageError(NEEDS_HOSTS)
    try:
        reports.check_paths(config)  # before any host is contacted
        startup.check_options(config)
        registry = HostRegistry(_connect_defaults(config))
        inventory_hosts = _register_hosts(config, registry)
        refusal = theirs.fix_refusal(list(registry))
        if refusal and config.getoption("hostkit_fix"):
            raise KitValueError(refusal)
        warmup.connect_early(config, registry)
        plan = planning.plan_profiles(config, inventory_hosts)
        checkreport.load_texts(config, plan)
        accepted = _load_waivers(config, plan)
    except KitError as exc:
        raise pytest.UsageError(str(exc)) from None
    config.stash[STATE] = RunState(config, registry, plan)
    config.stash[STATE].waivers = accepted
    config.stash[STATE].groups = {h.name: h.groups for h in inventory_hosts}
    _register_selection(config)
    if config.getoption("hostkit_fix_batch") and startup.xdist_mode(config):
        config.pluginmanager.register(waves.Controller(), "hostkit-waves")
    backend.install(registry)
    batcher = batch.Batcher(config)
    config.pluginmanager.register(batcher, "hostkit-batch")
    batch.install(batcher)
    if not config.option.xmlpath and config.getini("hostkit_junit"):
        config.option.xmlpath = str(config.rootpath / config.getini("hostkit_junit"))
    reports.configure(config, config.stash[STATE])
    runnotes.configure(config)
    if config.getoption("hostkit_fix"):
        from kit.plugin import fixpool  # only a --fix run can fix hosts at once

        fixpool.configure(config, config.stash[STATE])
    if config.getoption("hostkit_reboot") and not config.getoption("hostkit_dry_run"):
        try:
            reboot.configure(config, config.stash[STATE])
        except KitError as exc:
            raise pytest.UsageError(str(exc)) from None


def header(config: pytest.Config) -> list[str]:
    """The run's profiles, expired waivers, what -n auto chose and, with -v, the inventory's
    reader."""
    state = config.stash.get(STATE, None)
    lines = list(state.plan.header) if state is not None else []
    if state is not None:
        lines += [w.expiry_line() for w in state.waivers.expired()]
    if AUTO_WORKERS in config.stash:
        lines.append(config.stash[AUTO_WORKERS])
    used = config.stash.get(INVENTORY_BACKEND, None)
    if used is not None and config.option.verbose > 0:
        how = "ansible-inventory --list" if used == "ansible" else "hostkit's built-in parser"
        lines.append(f"hostkit inventory: {config.getoption('hostkit_inventory')} read by {how}")
    return lines


def unconfigure(config: pytest.Config) -> None:
    """Release the fix locks and connections; uninstall the backend and the batcher."""
    state = config.stash.get(STATE, None)
    if state is not None:
        state.close_fixes()
        state.registry.close()
        backend.install(None)
        batch.install(None)


def _register_selection(config: pytest.Config) -> None:
    wanted = selection.patterns(config.getoption("hostkit_check"))
    skipped = selection.patterns(config.getoption("hostkit_skip_check"))
    if wanted or skipped:
        chosen = selection.CheckSelection(wanted, skipped)
        config.pluginmanager.register(chosen, "hostkit-check-selection")


def _load_waivers(config: pytest.Config, plan: ProfilePlan) -> waivers.Waivers:
    path = config.getoption("hostkit_waivers")
    if not path:
        return waivers.Waivers()
    found = waivers.load(path, dt.date.today())
    waivers.validate(found, plan.catalog or planning.args_catalog(config), path)
    return found


def _connect_defaults(config: pytest.Config) -> dict[str, Any]:
    return hostopts.connect_defaults(
        sudo_password_env=config.getoption("hostkit_sudo_env"),
        sudo_password_file=config.getoption("hostkit_sudo_file"),
        sudo_user=config.option.sudo_user,
        identity_file=config.option.ssh_identity_file,
        ssh_config=config.option.ssh_config,
        known_hosts=config.getoption("hostkit_known_hosts"),
        accept_new_host_keys=config.getoption("hostkit_accept_new"),
    )


def _register_hosts(config: pytest.Config, registry: HostRegistry) -> list[InventoryHost]:
    """Turn --hosts / --inventory into registry entries and testinfra `hostkit://KEY` specs;
    returns the inventory hosts chosen (their groups and variables choose their profile)."""
    names = [h.strip() for h in (config.option.hosts or "").split(",") if h.strip()]
    config.stash[runnotes.GIVEN_HOSTS] = config.option.hosts or ""  # replaced below
    inventory_file = config.getoption("hostkit_inventory")
    specs: list[str] = []
    chosen: list[InventoryHost] = []
    if inventory_file:
        used, chosen, contexts = hostopts.add_inventory(
            registry, inventory_file, config.getoption("hostkit_inventory_backend"), names
        )
        config.stash[INVENTORY_BACKEND] = used
        specs += [f"{backend.SCHEME}://{ctx.key}" for ctx in contexts]
    else:
        if config.option.hosts and not names:
            raise KitValueError(f"--hosts={config.option.hosts!r} names no host")
        testinfra_options = {
            "connection": config.option.connection,
            "ansible_inventory": config.option.ansible_inventory,
            "force_ansible": config.option.force_ansible,
            "ssh_extra_args": config.option.ssh_extra_args,
        }
        for name in names:
            spec = hosts.Spec.of(name, testinfra_options)
            if spec.theirs:
                # testinfra's own backend runs it, as without hostkit (kit.plugin.theirs).
                theirs.register(registry, name, testinfra_options)
                specs.append(name)
                continue
            # What a URL says about sudo stays with testinfra, which hands it to the backend.
            sudo = spec.options
            query = {k: str(sudo[k]) for k in ("sudo", "sudo_user") if k in sudo and "://" in name}
            tail = f"?{urlencode(query)}" if query else ""
            for ctx in registry.resolve(name, **testinfra_options):
                specs.append(f"{backend.SCHEME}://{ctx.key}{tail}")
            specs += theirs.inventory_others(registry, spec, query)
    if specs:
        config.option.hosts = ",".join(specs)
    elif not names:
        registry.add(parse("local://"))
    # With no hosts, testinfra asks this backend for the local machine.
    config.option.connection = config.option.connection or backend.SCHEME
    return chosen
