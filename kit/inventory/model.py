"""Groups, hosts and variable precedence, by the rules Ansible applies to a static inventory."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kit import encodable, yamlsafe
from kit.errors import KitValueError

BACKEND_HINT = "use --inventory-backend=ansible"
_VARS_SUFFIXES = ("", ".yml", ".yaml", ".json")


class Unsupported(KitValueError):
    """A feature the built-in parser does not implement; Ansible itself would read it."""

    def __init__(self, where: str, what: str) -> None:
        super().__init__(f"{where}: {what} is not supported by the built-in parser; {BACKEND_HINT}")


@dataclass
class Group:
    name: str
    hosts: list[str] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    vars: dict[str, Any] = field(default_factory=dict)
    priority: int = 1


@dataclass
class Model:
    """An inventory as Ansible holds it: groups in order, hosts in order, inline variables."""

    groups: dict[str, Group] = field(default_factory=dict)
    hostvars: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Variables already resolved per host (the ansible backend); None means resolve here.
    resolved: dict[str, dict[str, Any]] | None = None

    def __post_init__(self) -> None:
        self.group("all")
        self.group("ungrouped")

    def group(self, name: str) -> Group:
        return self.groups.setdefault(name, Group(name))

    def add_host(self, name: str, group: str, hostvars: dict[str, Any]) -> None:
        self.hostvars.setdefault(name, {}).update(hostvars)
        members = self.group(group).hosts
        if name not in members:
            members.append(name)

    def add_child(self, parent: str, child: str, where: str) -> None:
        if parent == child or parent in self.descendants(child):
            raise KitValueError(f"{where}: group cycle: {parent} -> {child}")
        kids = self.group(parent).children
        if child not in kids:
            kids.append(child)
        self.group(child)

    def set_group_var(self, group: str, key: str, value: Any, where: str) -> None:
        if key == "ansible_group_priority":
            if isinstance(value, bool) or not isinstance(value, int | str):
                raise KitValueError(f"{where}: ansible_group_priority must be a whole number")
            try:
                self.group(group).priority = int(value)
            except ValueError:
                raise KitValueError(
                    f"{where}: ansible_group_priority must be a whole number"
                ) from None
        else:
            self.group(group).vars[key] = value

    def descendants(self, name: str) -> list[str]:
        """Breadth first, each group once, as Ansible walks them to list a group's hosts."""
        order: list[str] = []
        level = list(self.groups[name].children) if name in self.groups else []
        while level:
            following: list[str] = []
            for kid in level:
                if kid not in order:
                    order.append(kid)
                    following.extend(self.groups[kid].children)
            level = following
        return order

    def reconcile(self) -> None:
        parented = {kid for g in self.groups.values() for kid in g.children}
        for name in list(self.groups):
            if name != "all" and name not in parented:
                self.group("all").children.append(name)
        ungrouped = self.groups["ungrouped"]
        for host in self.hostvars:
            direct = [g for g in self.groups.values() if host in g.hosts and g.name != "all"]
            if any(g.name != "ungrouped" for g in direct):
                if host in ungrouped.hosts:
                    ungrouped.hosts.remove(host)
            elif not direct:
                ungrouped.hosts.append(host)

    def hosts_of(self, name: str) -> list[str]:
        found: list[str] = []
        for group in (name, *self.descendants(name)):
            found.extend(h for h in self.groups[group].hosts if h not in found)
        return found

    def groups_of(self, host: str) -> list[str]:
        direct = [g.name for g in self.groups.values() if host in g.hosts]
        found = set(direct)
        frontier = set(direct)
        while frontier:
            frontier = {p.name for p in self.groups.values() if set(p.children) & frontier} - found
            found |= frontier
        return [g for g in self.groups if g in found or g == "all"]

    def depths(self) -> dict[str, int]:
        depth = {"all": 0}
        level = ["all"]
        while level:
            following = []
            for name in level:
                for kid in self.groups[name].children:
                    if depth.get(kid, -1) < depth[name] + 1:
                        depth[kid] = depth[name] + 1
                        following.append(kid)
            level = following
        return depth

    def variables(self, host: str, vars_dirs: VarsDirs | None) -> dict[str, Any]:
        """Ansible's default order: all, other groups, group_vars/all, group_vars/*, host."""
        if self.resolved is not None:
            return dict(self.resolved.get(host, {}))
        depth = self.depths()
        mine = [
            self.groups[g]
            for g in self.groups_of(host)
            if g != "all"  # all comes first whatever its depth
        ]
        ordered = sorted(mine, key=lambda g: (depth.get(g.name, 0), g.priority, g.name))
        merged: dict[str, Any] = dict(self.groups["all"].vars)
        for group in ordered:
            merged.update(group.vars)
        if vars_dirs is not None:
            merged.update(vars_dirs.load("group_vars", "all"))
            for group in ordered:
                merged.update(vars_dirs.load("group_vars", group.name))
        merged.update(self.hostvars[host])
        if vars_dirs is not None:
            merged.update(vars_dirs.load("host_vars", host))
        return merged


class VarsDirs:
    """group_vars/ and host_vars/ next to the inventory file."""

    def __init__(self, base: Path) -> None:
        self.base = base

    def load(self, kind: str, name: str) -> dict[str, Any]:
        top = self.base / kind
        if not top.is_dir():
            return {}
        merged: dict[str, Any] = {}
        for suffix in _VARS_SUFFIXES:
            path = top / f"{name}{suffix}"
            if path.is_dir():
                files = sorted(p for p in path.rglob("*") if p.is_file())
                for file in files:
                    if file.suffix in _VARS_SUFFIXES and not file.name.startswith("."):
                        merged.update(_vars_file(file))
            elif path.is_file():
                merged.update(_vars_file(path))
        return merged


class _TagRefusing(yaml.SafeLoader):
    pass


def _refuse_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    raise Unsupported(str(loader.name), f"the YAML tag {node.tag}")


_TagRefusing.add_multi_constructor("!", _refuse_tag)
_Loader = yamlsafe.loader(_TagRefusing)


def load_yaml(text: str, where: str) -> Any:
    if text.lstrip().startswith("$ANSIBLE_VAULT"):
        raise Unsupported(where, "a vault-encrypted file")
    try:
        # The reader checks the characters as the loader is made.
        loader = _Loader(text)
        loader.name = where
        try:
            return encodable.data(loader.get_single_data())
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        raise KitValueError(f"{where}: invalid YAML: {yamlsafe.problem(exc)}") from None


def _vars_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise KitValueError(f"variables file {path}: cannot read: {exc}") from None
    if path.suffix == ".json":
        try:
            data = encodable.data(json.loads(text))
        except ValueError as exc:
            raise KitValueError(f"variables file {path}: invalid JSON: {exc}") from None
    else:
        data = load_yaml(text, f"variables file {path}")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise KitValueError(f"variables file {path}: expected a mapping")
    return data
