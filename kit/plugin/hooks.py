"""The hostkit pytest plugin: hosts, checks, --fix, xdist grouping, JUnit, the summary.

testinfra's plugin stays loaded; hostkit reuses its options (--hosts, --ssh-config,
--ssh-identity-file, --sudo, --sudo-user) and its `host` fixture, and makes every
host it names go through a hostkit connection (see kit.plugin.backend).
"""

from __future__ import annotations

import datetime as dt
import gc
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest

from kit import reports
from kit.catalog.check import TAGS, CheckMeta, meta_of
from kit.catalog.profile import Profile
from kit.catalog.remediation import DISRUPTIONS
from kit.connection.spec import parse
from kit.errors import ConnectError, KitError, KitValueError
from kit.plugin import (
    backend,
    batch,
    collected,
    hostopts,
    hosts,
    outcomes,
    reboot,
    selection,
    shard,
    startup,
    waivers,
    waves,
)
from kit.plugin import fix as fixflow
from kit.plugin import terminal as report_terminal
from kit.plugin.fixhost import HostFixes, new_run_id
from kit.plugin.hosts import HostContext, HostRegistry
from kit.plugin.outcomes import Tally, prop
from kit.runner import hostlock, journal

if TYPE_CHECKING:
    from kit.connection import Connection
    from kit.facts import Facts
    from kit.inventory import InventoryHost

STATE = pytest.StashKey["RunState"]()
SHARD = pytest.StashKey[shard.Shard]()
INVENTORY_BACKEND = pytest.StashKey[str]()
AUTO_WORKERS = pytest.StashKey[str]()
ITEM_OUTCOME = fixflow.OUTCOME
DEFAULT_PROFILE = "kubernetes-node"
DEFAULT_MAX_DISRUPTION = "medium"
UNREACHABLE_LINE = "host unreachable"
FILE_DIFFS = "hostkit-file-diffs"
NEEDS_HOSTS = "--fix needs explicit hosts; use --hosts=local:// to fix this machine"


class RunState:
    def __init__(self, config: pytest.Config, registry: HostRegistry, plan: ProfilePlan) -> None:
        self.fix: bool = config.getoption("hostkit_fix")
        self.settings = fixflow.Settings(
            dry_run=config.getoption("hostkit_dry_run"),
            max_disruption=config.getoption("hostkit_max_disruption"),
            verbose=config.option.verbose > 0,
        )
        # pytest's own --strict (the `strict` ini value) also makes warnings fail the run.
        self.strict: bool = bool(config.getini("strict"))
        self.registry = registry
        self.plan = plan
        self.profile = plan.default
        self.tally = Tally()
        # One id for the whole run; xdist workers receive the controller's.
        workerinput = getattr(config, "workerinput", {})
        self.run_id: str = workerinput.get("hostkit_run_id") or new_run_id()
        self.lock_timeout: float = config.getoption("hostkit_fix_lock_timeout")
        self.runs_dir: str = config.getini("hostkit_runs_dir")
        self.lock_dir: str = config.getini("hostkit_lock_dir")
        self.hosts: dict[str, HostFixes] = {}
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
        if ctx.key not in self.hosts:
            self.hosts[ctx.key] = HostFixes(
                ctx, self.run_id, self.lock_timeout, self.runs_dir, self.lock_dir
            )
        return self.hosts[ctx.key]

    def close_fixes(self) -> None:
        for host in self.hosts.values():
            host.close()
        self.hosts.clear()


# -- options ---------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hostkit", "hostkit compliance and remediation")
    group.addoption(
        "--fix",
        action="store_true",
        dest="hostkit_fix",
        help="run the paired remediation of every failing check, then check again",
    )
    group.addoption(
        "--dry-run",
        action="store_true",
        dest="hostkit_dry_run",
        help="with --fix: show each planned change and its diff, apply nothing",
    )
    group.addoption(
        "--max-disruption",
        dest="hostkit_max_disruption",
        choices=DISRUPTIONS,
        default=DEFAULT_MAX_DISRUPTION,
        help="with --fix: run only remediations this disruptive or less "
        f"(default {DEFAULT_MAX_DISRUPTION})",
    )
    group.addoption(
        "--fix-lock-timeout",
        dest="hostkit_fix_lock_timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="with --fix: how long to wait for another run's fixes on a host to end (default 60)",
    )
    group.addoption(
        "--fix-batch",
        dest="hostkit_fix_batch",
        metavar="N|P%",
        help="with --fix: fix N hosts (or P%% of them) at a time, in the run's host order; "
        "the first wave is the canary, and every host is still checked",
    )
    group.addoption(
        "--max-fail-percentage",
        dest="hostkit_max_fail_percentage",
        metavar="P",
        help="with --fix-batch: when more than P%% of a wave's hosts have a fix that failed, "
        "later waves are only checked (default 0)",
    )
    group.addoption(
        "--reboot",
        action="store_true",
        dest="hostkit_reboot",
        help="with --fix: reboot the hosts whose fixes need it, wave by wave, and report "
        "their checks as run again after the reboot",
    )
    group.addoption(
        "--reboot-timeout",
        dest="hostkit_reboot_timeout",
        type=float,
        default=reboot.DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help="with --reboot: how long a host may take to come back with a new boot id "
        f"(default {reboot.DEFAULT_TIMEOUT:g})",
    )
    group.addoption(
        "--profile",
        dest="hostkit_profile",
        default=None,
        metavar="NAME",
        help=f"profile name or YAML path (default {DEFAULT_PROFILE}); with --inventory, "
        "GROUP=PROFILE[,GROUP=PROFILE...][,DEFAULT] chooses by group, the first match winning",
    )
    group.addoption(
        "--inventory",
        dest="hostkit_inventory",
        metavar="FILE",
        help="Ansible inventory (INI or YAML); --hosts then takes Ansible host patterns",
    )
    group.addoption(
        "--inventory-backend",
        dest="hostkit_inventory_backend",
        choices=("auto", "builtin", "ansible"),
        default="auto",
        help="read --inventory with ansible-inventory (ansible), hostkit's static INI/YAML "
        "parser (builtin), or ansible-inventory when it is on the PATH (auto, the default)",
    )
    group.addoption(
        "--known-hosts",
        dest="hostkit_known_hosts",
        metavar="FILE",
        help="known_hosts file to verify host keys against",
    )
    group.addoption(
        "--accept-new-host-keys",
        action="store_true",
        dest="hostkit_accept_new",
        help="record unknown host keys in known_hosts (changed keys stay rejected)",
    )
    group.addoption(
        "--sudo-password-env",
        dest="hostkit_sudo_env",
        metavar="VAR",
        help="environment variable holding the sudo password",
    )
    group.addoption(
        "--sudo-password-file",
        dest="hostkit_sudo_file",
        metavar="FILE",
        help="file whose first line is the sudo password",
    )
    group.addoption(
        "--shard",
        dest="hostkit_shard",
        metavar="K/N",
        help="keep shard K of N of the selected hosts, by a hash of each host's name; "
        "K counts from 0, and auto/N reads K from JOB_COMPLETION_INDEX",
    )
    group.addoption(
        "--check",
        dest="hostkit_check",
        action="append",
        metavar="ID[,ID...]",
        help="run only checks whose id matches (globs such as 'k8s.sysctl*'), within the profile",
    )
    group.addoption(
        "--skip-check",
        dest="hostkit_skip_check",
        action="append",
        metavar="ID[,ID...]",
        help="leave out checks whose id matches (globs)",
    )
    group.addoption(
        "--waivers",
        dest="hostkit_waivers",
        metavar="FILE",
        help="YAML list of accepted failures (check, hosts, justification, expires): "
        "a waived check still runs and is reported as waived, and --fix leaves it alone",
    )
    reports.add_options(group)
    parser.addini("hostkit_junit", "default JUnit report path, relative to the rootdir", default="")
    parser.addini(
        "hostkit_runs_dir",
        "where --fix keeps each run's saved files and journal on a host",
        default=journal.ROOT,
    )
    parser.addini(
        "hostkit_lock_dir",
        "where --fix takes its lock on a host (a directory under /run)",
        default=hostlock.LOCK_DIR,
    )
    parser.addini(
        "hostkit_wave_timeout",
        "with --fix-batch under -n: how long a fix waits, with no host of an earlier wave "
        "finishing, before it fails",
        default=str(waves.DEFAULT_TIMEOUT),
    )
    parser.addini(
        "hostkit_profiles",
        "directory of profiles, relative to the rootdir",
        default="checks/profiles",
    )


# -- configuration ------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
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
        _connect_early(config, registry)
        plan = _plan_profiles(config, inventory_hosts)
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
    if config.getoption("hostkit_reboot") and not config.getoption("hostkit_dry_run"):
        try:
            reboot.configure(config, config.stash[STATE])
        except KitError as exc:
            raise pytest.UsageError(str(exc)) from None


def _connect_early(config: pytest.Config, registry: HostRegistry) -> None:
    """A serial run connects to its remote hosts while it plans and collects.

    Not for --collect-only, which connects to nothing, nor under xdist: there each worker
    connects to the hosts it is given, once it knows them (pytest_collection_finish).
    """
    if config.option.collectonly or hasattr(config, "workerinput") or startup.xdist_mode(config):
        return
    remote = [ctx for ctx in registry if ctx.spec.scheme != "local"]
    if remote:
        hosts.connect_in_background(remote, PREFETCH_THREADS)


def pytest_report_header(config: pytest.Config) -> list[str]:
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


def pytest_unconfigure(config: pytest.Config) -> None:
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
    waivers.validate(found, plan.catalog or _args_catalog(config), path)
    return found


def _args_catalog(config: pytest.Config) -> list[str]:
    """With no profile, the catalog is the checks in the test modules the run was given."""
    from kit.catalog import describe as catalog

    skip = config.getini("norecursedirs")
    dirs: dict[Path, None] = {}
    for arg in config.args:
        path = (config.invocation_params.dir / arg.partition("::")[0]).resolve()
        if path.is_file():
            dirs[path.parent] = None
            continue
        for found in sorted(path.rglob("test_*.py")) if path.is_dir() else ():
            # The directories pytest would not collect from either: .git, a virtualenv...
            below = found.parent.relative_to(path).parts
            walked = [path.joinpath(*below[: n + 1]) for n in range(len(below))]
            if not any(
                any(fnmatch(d.name, pat) for pat in skip) or (d / "pyvenv.cfg").exists()
                for d in walked
            ):
                dirs[found.parent] = None
    ids: list[str] = []
    for directory in dirs:
        try:
            ids += [meta.id for meta in catalog.checks(directory)]
        except Exception:  # noqa: S112 - pytest reports a module that does not import
            continue
    return ids


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
            # What a URL says about sudo stays with testinfra, which hands it to the backend.
            sudo = hosts.Spec.of(name, testinfra_options).options
            query = {k: str(sudo[k]) for k in ("sudo", "sudo_user") if k in sudo and "://" in name}
            tail = f"?{urlencode(query)}" if query else ""
            for ctx in registry.resolve(name, **testinfra_options):
                specs.append(f"{backend.SCHEME}://{ctx.key}{tail}")
    if specs:
        config.option.hosts = ",".join(specs)
    elif not names:
        registry.add(parse("local://"))
    # With no hosts, testinfra asks this backend for the local machine.
    config.option.connection = config.option.connection or backend.SCHEME
    return chosen


class ProfilePlan:
    """The profile of each host of the run, validated against the catalog.

    An empty default profile (no profiles directory and no --profile) selects every
    collected check with the parameters it declares itself.
    """

    def __init__(
        self,
        default: Profile,
        hosts: dict[str, Profile],
        header: list[str],
        catalog: list[str] | None = None,
    ) -> None:
        self.default = default
        self.hosts = hosts
        self.header = header
        self.catalog = catalog or []  # the ids of the checks the profiles were held against

    def for_label(self, label: str | None) -> Profile:
        return self.hosts.get(label or "", self.default)

    def all(self) -> list[Profile]:
        return [self.default, *self.hosts.values()]


def _plan_profiles(config: pytest.Config, inventory_hosts: list[InventoryHost]) -> ProfilePlan:
    from kit.catalog import profile
    from kit.catalog.shipped import shipped

    directory = Path(config.rootpath / config.getini("hostkit_profiles"))
    # The run's own profiles first: they may extend, or stand in for, the shipped ones.
    search = [directory, shipped() / "profiles"]
    choice = profile.parse_choice(config.getoption("hostkit_profile"))
    if choice.default is None and not choice.groups:
        own_default = (directory / f"{DEFAULT_PROFILE}.yaml").is_file()
        if not own_default and not _runs_shipped(config, shipped()):
            return ProfilePlan(Profile(name=""), {}, [])
        choice = profile.Choice(default=DEFAULT_PROFILE)
    from kit.catalog import describe as catalog

    if choice.groups and not config.getoption("hostkit_inventory"):
        raise KitValueError("--profile GROUP=PROFILE chooses by inventory group: give --inventory")
    known_groups = set().union(*(h.groups for h in inventory_hosts)) if inventory_hosts else set()
    for group, _ in choice.groups:
        if group not in known_groups:
            raise KitValueError(f"--profile maps group {group!r}, which no chosen host is in")
    loaded: dict[str, Profile] = {}
    catalogs: dict[str, list[CheckMeta]] = {}
    for name in choice.names:
        prof = loaded[name] = profile.load(name, search)
        where = _catalog_dirs(prof, directory)
        try:
            catalogs[name] = [meta for found in where for meta in catalog.checks(found)]
        except Exception as exc:  # a check module that does not import is a broken catalog
            raise KitValueError(
                f"profile {prof.name}: cannot read the catalog in {', '.join(map(str, where))}: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        profile.validate(prof, catalogs[name])
    users: dict[str, list[str]] = {}
    hosts: dict[str, Profile] = {}
    # By name, so that which host an error names does not depend on the inventory's reader.
    for entry in sorted(inventory_hosts, key=lambda h: h.name):
        name = profile.profile_for(choice, entry.name, entry.groups)
        users.setdefault(name, []).append(entry.name)
        overrides = profile.host_overrides(entry.name, entry.vars)
        profile.validate_params(overrides, catalogs[name], f"inventory host {entry.name}")
        hosts[entry.name] = loaded[name].with_params(overrides)
    default = loaded[choice.default] if choice.default else next(iter(loaded.values()))
    header = []
    for name, prof in loaded.items():
        if inventory_hosts and name not in users:
            continue
        metas = catalogs[name]
        left_out = profile.excluded(prof, metas)
        who = f" for {', '.join(users[name])}" if choice.groups and name in users else ""
        header.append(
            f"hostkit profile {prof.name}{who}: {len(metas) - len(left_out)} of {len(metas)} "
            f"catalog checks; {len(left_out)} not in it do not run"
        )
    ids = [meta.id for metas in catalogs.values() for meta in metas]
    return ProfilePlan(default, hosts, header, list(dict.fromkeys(ids)))


def _catalog_dirs(prof: Profile, profiles_dir: Path) -> list[Path]:
    """The checks a profile may name: the test modules next to the run's profiles directory
    (`checks/` for `checks/profiles`), and next to the `profiles/` directory of the profile
    and of each profile it extends (the shipped catalog's, for a user's profile extending a
    shipped one)."""
    found = [profiles_dir.parent]
    for source in (prof.source, *prof.parents):
        if source is not None and source.parent.name == "profiles":
            found.append(source.parent.parent)
    return list({d.resolve(): d for d in found}.values())


def _runs_shipped(config: pytest.Config, shipped: Path) -> bool:
    """Whether the run collects the shipped catalog (`--pyargs hostkit_catalog.checks`, or
    its directory): then its default profile applies, as it does in a checkout."""
    for arg in config.args:
        name = arg.split("::")[0]
        if config.option.pyargs and name.split(".")[0] == "hostkit_catalog":
            return True
        if (config.invocation_params.dir / name).resolve().is_relative_to(shipped.resolve()):
            return True
    return False


# -- xdist ----------------------------------------------------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Workers record their fixes under the controller's run id, and learn whether their
    hosts are shared out at the start (kit.plugin.scheduling), so they can connect to them early."""
    node.workerinput["hostkit_run_id"] = node.config.stash[STATE].run_id
    node.workerinput["hostkit_shares"] = node.config.getvalue("dist") in ("load", "loadscope")


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: as many workers as repay their start-up (kit.plugin.workers), maybe none."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # the user's own count, which xdist reads
    inventory = config.getoption("hostkit_inventory")
    if not (config.option.hosts or inventory):
        # Not a run against hosts (a project's own tests with hostkit installed): xdist's way.
        return None
    from kit.plugin import workers

    cpus = workers.cores()
    count = workers.host_count(config.option.hosts, inventory)
    chosen = workers.auto_workers(count, cpus)
    hosts = "an inventory's hosts" if count is None else f"{count} host(s)"
    how = f"{chosen} workers" if chosen else "no workers (a serial run)"
    config.stash[AUTO_WORKERS] = f"hostkit: -n auto: {how} for {hosts} on {cpus} core(s)"
    return chosen


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") not in ("load", "loadscope"):
        return None
    from kit.plugin.scheduling import HostScheduling

    return HostScheduling(config, log, [c.label for c in config.stash[STATE].registry])


# -- collection -----------------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
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


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
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


PREFETCH_THREADS = 32


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Connect every host, and gather facts where checks read them, all at once.

    Done lazily, host after host, each connect and gather would wait out its own
    round trips. An xdist worker does this for the hosts the controller will give it.
    """
    config = session.config
    _drop_idle_hypothesis(config)
    if config.option.collectonly or not session.items:
        return
    # The collected items and everything they hold live until the run ends. Out of the
    # collector's sight, they no longer make each full collection (during the run, and
    # the five pytest makes at its end) cost time in proportion to the run's size.
    gc.freeze()
    items = session.items
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        if not workerinput.get("hostkit_shares"):
            return
        items = _own_items(config, items, workerinput)
    used: dict[str, bool] = {}
    for item in items:
        label = collected.host_label(item)
        if label is not None:
            wants = "facts" in getattr(item, "fixturenames", ())
            used[label] = used.get(label, False) or wants
    contexts = [c for c in config.stash[STATE].registry if c.label in used]
    if len(contexts) < 2:
        return
    with ThreadPoolExecutor(min(PREFETCH_THREADS, len(contexts))) as pool:
        list(pool.map(lambda c: collected.warm(c, used[c.label]), contexts))


def _own_items(
    config: pytest.Config, items: list[pytest.Item], workerinput: dict[str, Any]
) -> list[pytest.Item]:
    """The items of the hosts this worker's share holds, worked out as the controller does."""
    from kit.plugin import scheduling

    labels = [c.label for c in config.stash[STATE].registry]
    workers = scheduling.worker_ids(workerinput["workercount"])
    nodeids = [item.nodeid for item in items]
    mine = set(scheduling.shares(nodeids, labels, workers).get(workerinput["workerid"], ()))
    return [item for item in items if scheduling.scope_of(item.nodeid, labels) in mine]


def _drop_idle_hypothesis(config: pytest.Config) -> None:
    """Unregister hypothesis's pytest plugin when no collected test module imported hypothesis.

    Its terminal summary imports hypothesis in full, which costs a run that has no property
    test more than hostkit's own start-up. Only the process that collected the tests can
    tell: an xdist controller keeps the plugin for the reports its workers send.
    """
    if "hypothesis" in sys.modules:
        return
    if not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no":
        return
    plugin = config.pluginmanager.get_plugin("hypothesispytest")
    if plugin is not None:
        config.pluginmanager.unregister(plugin)


# -- fixtures -------------------------------------------------------------------------


@pytest.fixture
def conn(host: Any) -> Connection:
    """The hostkit connection behind `host`."""
    return _backend_context(host).conn


@pytest.fixture
def facts(host: Any) -> Facts:
    """The host's facts, gathered once per host per run."""
    return _backend_context(host).facts


@pytest.fixture
def runner() -> Any:
    """The runner's operations: `runner.set_sysctl(conn, facts, key, value)`."""
    import kit.runner

    return kit.runner


def _backend_context(host: Any) -> HostContext:
    ctx = getattr(host.backend, "context", None)
    if ctx is None:
        raise pytest.UsageError(f"{host!r} is not a hostkit host")
    return ctx


# -- running checks and fixes -----------------------------------------------------------


def pytest_runtest_setup(item: pytest.Item) -> None:
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


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    state: RunState = item.config.stash[STATE]
    meta = meta_of(item)
    try:
        return (yield)
    except AssertionError as first:
        ctx = collected.context(item)
        # A waived check's state is accepted as it is: neither fixed nor planned.
        waived = state.fix and state.waiver_for(item) is not None
        # Checked again after a reboot: the verdict is the check's own, fixed or not.
        if not (state.fix and meta and meta.fix and ctx) or waived or reboot.rechecking(item):
            item.stash[ITEM_OUTCOME] = outcomes.FAILED
            raise
        host = None if state.settings.dry_run else state.fixes_for(ctx)
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
        return None
    except Exception:
        item.stash[ITEM_OUTCOME] = outcomes.ERROR
        raise


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report: pytest.TestReport = yield
    state: RunState = item.config.stash[STATE]
    outcome = _outcome(item, report)
    if outcome is None:
        return report
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
    return report


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


# -- reporting --------------------------------------------------------------------------


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
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


@pytest.hookimpl
def pytest_sessionstart(session: pytest.Session) -> None:
    state: RunState = session.config.stash[STATE]
    terminal = session.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None and (not terminal.showheader or terminal.no_header):
        # The header says it otherwise; an expired waiver is news even under -q.
        for waiver in state.waivers.expired():
            terminal.write_line(waiver.expiry_line())
    session.config.pluginmanager.register(outcomes.Collector(state.tally), "hostkit-tally")
    if not hasattr(session.config, "workerinput"):
        junit = report_terminal.JUnitWarnings(session.config)
        session.config.pluginmanager.register(junit, "hostkit-junit-warnings")
        session.config.pluginmanager.register(report_terminal.FileDiffs(), FILE_DIFFS)
        session.config.pluginmanager.register(report_terminal.HostProgress(session.config))
        report_terminal.index_teardown_reports(session.config)


def pytest_sessionfinish(session: pytest.Session) -> None:
    # A shard that gets no host (more shards than hosts) ran what it was given: nothing.
    no_tests = session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED
    if no_tests and SHARD in session.config.stash:
        session.exitstatus = pytest.ExitCode.OK
    state = session.config.stash.get(STATE, None)
    if state is not None and not hasattr(session.config, "workerinput"):
        session.exitstatus = state.tally.exit_status(int(session.exitstatus), session.testsfailed)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(STATE, None)
    if state is not None:
        outcomes.write_summary(terminalreporter, state.tally)
        diffs = config.pluginmanager.get_plugin(FILE_DIFFS)
        if diffs is not None and (state.settings.dry_run or state.settings.verbose):
            diffs.write(terminalreporter, dry_run=state.settings.dry_run)
