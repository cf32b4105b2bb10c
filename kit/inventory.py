"""Ansible inventories (INI or YAML) as host specs with per-host connection options."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kit.connection.spec import HostSpec, build
from kit.errors import KitValueError


@dataclass(frozen=True)
class InventoryHost:
    name: str
    spec: HostSpec
    identity_file: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)
    # Every variable the host ends up with, after group and host precedence.
    vars: Mapping[str, Any] = field(default_factory=dict)


def load(path: str | Path) -> list[InventoryHost]:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise KitValueError(f"inventory {file}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise KitValueError(f"inventory {file}: not UTF-8 text (byte {exc.start})") from None
    if file.suffix in (".yaml", ".yml") or text.lstrip().startswith(("all:", "---")):
        groups, hostvars = _parse_yaml(text, file)
    else:
        groups, hostvars = _parse_ini(text, file)
    return [_host(name, hostvars[name], _groups_of(name, groups), file) for name in hostvars]


def select(hosts: list[InventoryHost], patterns: list[str] | None) -> list[InventoryHost]:
    """Hosts named, or belonging to a group named, by any pattern (all when none)."""
    if not patterns:
        return hosts
    chosen = [h for h in hosts if h.name in patterns or h.groups & set(patterns)]
    missing = [p for p in patterns if not any(p == h.name or p in h.groups for h in hosts)]
    if missing:
        raise KitValueError(f"inventory has no host or group named {', '.join(missing)}")
    return chosen


def _host(name: str, hv: dict[str, Any], groups: frozenset[str], file: Path) -> InventoryHost:
    where = f"inventory {file}: host {name!r}"
    port = hv.get("ansible_port")
    if port is not None:
        # int() would also take " 22", "٣" and 22.9; an inventory port is plain digits.
        if isinstance(port, bool) or not isinstance(port, int | str):
            raise KitValueError(f"{where}: invalid ansible_port {port!r}")
        if isinstance(port, str):
            if not (port.isascii() and port.isdigit() and len(port) <= 5):
                raise KitValueError(f"{where}: invalid ansible_port {port!r}")
            port = int(port)
    user = hv.get("ansible_user")
    spec = build(
        str(hv.get("ansible_host") or name),
        str(user) if user else None,
        port,
        where=where,
    )
    key = hv.get("ansible_ssh_private_key_file")
    return InventoryHost(name, spec, str(key) if key else None, groups, dict(hv))


def _groups_of(name: str, groups: dict[str, set[str]]) -> frozenset[str]:
    return frozenset(g for g, members in groups.items() if name in members)


def _parse_ini(text: str, file: Path) -> tuple[dict[str, set[str]], dict[str, dict[str, Any]]]:
    groups: dict[str, set[str]] = {"all": set(), "ungrouped": set()}
    children: dict[str, set[str]] = {}
    group_vars: dict[str, dict[str, Any]] = {}
    hostvars: dict[str, dict[str, Any]] = {}
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith((";", "#")):
            continue
        if line.startswith("["):
            if not line.endswith("]"):
                raise KitValueError(f"inventory {file}:{number}: malformed section {line!r}")
            section, _, kind = line[1:-1].partition(":")
            kind = kind or "hosts"
            if kind not in ("hosts", "children", "vars"):
                raise KitValueError(f"inventory {file}:{number}: unknown section kind {kind!r}")
            groups.setdefault(section, set())
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            # shlex says "No closing quotation" or "No escaped character".
            raise KitValueError(f"inventory {file}:{number}: {str(exc).lower()}") from None
        if not words:
            continue
        if kind == "children":
            children.setdefault(section, set()).add(words[0])
        elif kind == "vars":
            key, _, value = line.partition("=")
            group_vars.setdefault(section, {})[key.strip()] = value.strip()
        else:
            name, assigns = words[0], words[1:]
            hv = hostvars.setdefault(name, {})
            for word in assigns:
                key, eq, value = word.partition("=")
                if not eq:
                    raise KitValueError(f"inventory {file}:{number}: expected key=value: {word!r}")
                hv[key] = value
            groups[section].add(name)
    _expand_children(groups, children)
    for group, gv in group_vars.items():
        for name in groups.get(group, ()):
            for key, value in gv.items():
                hostvars[name].setdefault(key, value)
    groups["all"] = set(hostvars)
    return groups, hostvars


def _parse_yaml(text: str, file: Path) -> tuple[dict[str, set[str]], dict[str, dict[str, Any]]]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise KitValueError(f"inventory {file}: invalid YAML: {exc}") from None
    groups: dict[str, set[str]] = {}
    hostvars: dict[str, dict[str, Any]] = {}

    def mapping(value: Any, what: str) -> dict[Any, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise KitValueError(f"inventory {file}: {what} must be a mapping")
        return value

    def walk(name: str, node: Any, inherited: dict[str, Any], stack: tuple[str, ...]) -> set[str]:
        if name in stack:
            raise KitValueError(f"inventory {file}: group cycle: {' -> '.join((*stack, name))}")
        node = mapping(node, f"group {name}")
        gv = {**inherited, **mapping(node.get("vars"), f"group {name}: vars")}
        members: set[str] = set()
        for host, hv in mapping(node.get("hosts"), f"group {name}: hosts").items():
            merged = hostvars.setdefault(str(host), {})
            merged.update(mapping(hv, f"host {host}"))
            for key, value in gv.items():
                merged.setdefault(key, value)
            members.add(str(host))
        for child, sub in mapping(node.get("children"), f"group {name}: children").items():
            members |= walk(str(child), sub, gv, (*stack, name))
        groups.setdefault(name, set()).update(members)
        return members

    if not isinstance(data, dict):
        raise KitValueError(f"inventory {file}: expected a mapping at the top level")
    for top, node in data.items():
        walk(str(top), node, {}, ())
    return groups, hostvars


def _expand_children(groups: dict[str, set[str]], children: dict[str, set[str]]) -> None:
    def members(group: str, stack: tuple[str, ...]) -> set[str]:
        if group in stack:
            raise KitValueError(f"inventory group cycle: {' -> '.join((*stack, group))}")
        found = set(groups.get(group, ()))
        for child in children.get(group, ()):
            found |= members(child, (*stack, group))
        return found

    for group in list(children):
        groups[group] = members(group, ())
