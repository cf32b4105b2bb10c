"""Profile planning: which profile each host of the run checks against, validated against
the catalog before anything is collected.

A profile names checks by id; the catalog is the checks the test modules beside the
profiles declare (kit.catalog.describe). Collection (kit.plugin.collection) then keeps,
for each host, the checks and parameter sets of its own profile.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from kit.catalog.profile import Profile
from kit.catalog.sitedirs import catalog_dirs, check_dirs
from kit.errors import KitValueError

if TYPE_CHECKING:
    from kit.catalog.check import CheckMeta
    from kit.inventory import InventoryHost

DEFAULT_PROFILE = "kubernetes-node"


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


def plan_profiles(config: pytest.Config, inventory_hosts: list[InventoryHost]) -> ProfilePlan:
    from kit.catalog import profile
    from kit.catalog.shipped import shipped

    directory = Path(config.rootpath / config.getini("hostkit_profiles"))
    # The run's own profiles first: they may extend, or stand in for, the shipped ones.
    search = [directory, shipped() / "profiles"]
    choice = profile.parse_choice(config.getoption("hostkit_profile"))
    if choice.default is None and not choice.groups:
        own_default = (directory / f"{DEFAULT_PROFILE}.yaml").is_file()
        if not own_default and not runs_shipped(config, shipped()):
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
        where = catalog_dirs(prof, directory)
        try:
            catalogs[name] = [meta for found in where for meta in catalog.checks(found)]
        except Exception as exc:  # a check module that does not import is a broken catalog
            cause = exc.__cause__ or exc  # the module's own error, not the loader's wrapping
            raise KitValueError(
                f"profile {prof.name}: cannot read the catalog in {', '.join(map(str, where))}: "
                f"{type(cause).__name__}: {cause}"
            ) from None
        profile.validate(prof, catalogs[name])
    users: dict[str, list[str]] = {}
    hosts: dict[str, Profile] = {}
    taken: list[str] = []  # the parameter sets hosts' own values take out, said
    # By name, so that which host an error names does not depend on the inventory's reader.
    for entry in sorted(inventory_hosts, key=lambda h: h.name):
        name = profile.profile_for(choice, entry.name, entry.groups)
        users.setdefault(name, []).append(entry.name)
        overrides = profile.host_overrides(entry.name, entry.vars)
        profile.validate_params(overrides, catalogs[name], f"inventory host {entry.name}")
        hosts[entry.name] = loaded[name].with_params(overrides)
        if overrides:
            profile.validate_selected(
                hosts[entry.name], catalogs[name], f"inventory host {entry.name}"
            )
            gone = profile.taken_out(loaded[name], hosts[entry.name])
            if gone:
                said = ", ".join(
                    f"{profile.VAR_PREFIX}{key} takes out {', '.join(values)}"
                    for key, values in gone.items()
                )
                taken.append(f"hostkit inventory host {entry.name}: {said}")
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
    return ProfilePlan(default, hosts, header + taken, list(dict.fromkeys(ids)))


def runs_shipped(config: pytest.Config, shipped: Path) -> bool:
    """Whether the run collects the shipped catalog (`--pyargs hostkit_catalog.checks`, or
    its directory): then its default profile applies, as it does in a checkout."""
    for arg in config.args:
        name = arg.split("::")[0]
        if config.option.pyargs and name.split(".")[0] == "hostkit_catalog":
            return True
        if (config.invocation_params.dir / name).resolve().is_relative_to(shipped.resolve()):
            return True
    return False


def args_catalog(config: pytest.Config) -> list[str]:
    """With no profile, the catalog is the checks in the test modules the run was given."""
    from kit.catalog import describe as catalog

    given = [config.invocation_params.dir / arg.partition("::")[0] for arg in config.args]
    dirs = check_dirs(given, config.getini("norecursedirs"))
    ids: list[str] = []
    for directory in dirs:
        try:
            ids += [meta.id for meta in catalog.checks(directory)]
        except Exception:  # noqa: S112 - pytest reports a module that does not import
            continue
    return ids
