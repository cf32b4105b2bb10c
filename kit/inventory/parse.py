"""The static INI and YAML inventory formats, read as Ansible's ini and yaml plugins read them."""

from __future__ import annotations

import ast
import ipaddress
import re
import shlex
import string
import warnings
from pathlib import Path
from typing import Any

from kit import encodable
from kit.errors import KitValueError
from kit.inventory.model import Model, Unsupported, load_yaml

_RANGE = r"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"
_LABEL = rf"(?:\w|{_RANGE})(?:[\w-]|{_RANGE})*(?<![_-])"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*", re.I)
_BRACKETED_PORT = re.compile(r"\[(.+)\]:([0-9]+)")
_HOST_PORT = re.compile(r"((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)")
_SECTION = re.compile(r"\[([^:\]\s]+)(?::(\w+))?\]\s*(?:#.*)?")
_GROUP_NAME = re.compile(r"([^:\]\s]+)\s*(?:#.*)?")


def expand(pattern: str, where: str) -> tuple[list[str], int | None]:
    """Host names and port from `name`, `name:port`, `[v6]:port` or a `name[01:09]` range."""
    host, port = pattern, None
    match = _BRACKETED_PORT.fullmatch(pattern) or _HOST_PORT.fullmatch(pattern)
    if match:
        host, port = match.group(1), int(match.group(2))
    if not (_HOSTNAME.fullmatch(host) or _is_address(host)):
        if port is not None or "[" in pattern or pattern.endswith(":"):
            # Ansible would keep the whole text as a host name, or fail on it.
            raise KitValueError(f"{where}: invalid host pattern {pattern!r}")
        return [pattern], None
    return _ranges(host, where), port


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return "%" not in text


def _ranges(name: str, where: str) -> list[str]:
    if "[" not in name or _is_address(name):
        return [name]
    head, _, rest = name.partition("[")
    body, _, tail = rest.partition("]")
    bounds = body.split(":")
    if len(bounds) not in (2, 3) or not bounds[1]:
        raise KitValueError(f"{where}: invalid host range [{body}]")
    begin, end = bounds[0] or "0", bounds[1]
    step = int(bounds[2]) if len(bounds) == 3 else 1
    if step < 1:
        raise KitValueError(f"{where}: invalid host range step in [{body}]")
    width = len(begin) if begin[0] == "0" and len(begin) > 1 else 0
    if width and width != len(end):
        raise KitValueError(f"{where}: host range [{body}] needs equal-width bounds")
    letters = string.ascii_letters
    if begin in letters and end in letters:
        first, last = letters.index(begin), letters.index(end)
        if first > last:
            raise KitValueError(f"{where}: host range [{body}] runs backwards")
        items = list(letters[first : last + 1 : step])
    else:
        items = [str(i).zfill(width) for i in range(int(begin), int(end) + 1, step)]
    names: list[str] = []
    for item in items:
        names.extend(_ranges(f"{head}{item}{tail}", where))
    return names


def ini_value(text: str) -> Any:
    """A Python literal when the text is one, else the text: Ansible's rule for INI values.
    A literal Ansible reads but hostkit does not is a KitValueError that does not show it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text
    if value is Ellipsis:
        return "..."
    if isinstance(value, complex):
        return str(value)
    if isinstance(value, bytes | set | frozenset):
        raise KitValueError(f"a {type(value).__name__} literal is not supported")
    if isinstance(value, tuple):
        value = list(value)
    # '\ud83d' is a Python literal too: its text is made encodable.
    return encodable.data(value)


def parse_ini(text: str, file: Path) -> Model:
    model = Model()
    pending: dict[str, tuple[int, str, list[str]]] = {}
    group, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        where = f"inventory {file}:{number}"
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        section = _SECTION.fullmatch(line)
        if section:
            group, kind = section.group(1), section.group(2) or "hosts"
            if kind not in ("hosts", "children", "vars"):
                raise KitValueError(f"{where}: unknown section kind {kind!r}")
            if group not in model.groups:
                if kind == "vars" and group not in pending:
                    pending[group] = (number, "vars", [])
                model.group(group)
            if group in pending and kind != "vars":
                _resolve_pending(model, group, pending, where)
            continue
        if line.startswith("[") and line.endswith("]"):
            raise KitValueError(f"{where}: malformed section {line!r}")
        if kind == "hosts":
            _ini_host(model, line, group, where)
        elif kind == "vars":
            key, eq, value = line.partition("=")
            if not eq:
                raise KitValueError(f"{where}: expected key=value ({_NOT_SHOWN})")
            name = key.strip()
            model.set_group_var(group, name, _value(name, value.strip(), where), where)
        else:
            name = _GROUP_NAME.fullmatch(line)
            if not name:
                raise KitValueError(f"{where}: expected a group name, got {line!r}")
            child = name.group(1)
            if child in model.groups:
                model.add_child(group, child, where)
            else:
                pending.setdefault(child, (number, "children", []))[2].append(group)
    for name, (number, kind, parents) in pending.items():
        where = f"inventory {file}:{number}"
        if kind == "vars":
            raise KitValueError(f"{where}: section [{name}:vars] names an undefined group")
        raise KitValueError(f"{where}: section [{parents[-1]}:children] names undefined {name!r}")
    model.reconcile()
    return model


def _resolve_pending(
    model: Model, group: str, pending: dict[str, tuple[int, str, list[str]]], where: str
) -> None:
    _, kind, parents = pending.pop(group)
    if kind != "children":
        return
    for parent in parents:
        model.add_child(parent, group, where)
        if parent in pending and pending[parent][1] == "children":
            _resolve_pending(model, parent, pending, where)


def _ini_host(model: Model, line: str, group: str, where: str) -> None:
    try:
        words = shlex.split(line, comments=True)
    except ValueError as exc:
        raise KitValueError(f"{where}: {str(exc).lower()}") from None
    if not words:
        return
    names, port = expand(words[0], where)
    hostvars: dict[str, Any] = {}
    for word in words[1:]:
        key, eq, value = word.partition("=")
        if not eq:
            after = f"{list(hostvars)[-1]}=" if hostvars else "the host name"
            raise KitValueError(
                f"{where}: a word after {after} is not key=value; a value with spaces is "
                f"quoted ({_NOT_SHOWN})"
            )
        hostvars[key] = _value(key, value, where)
    if port is not None:
        hostvars.setdefault("ansible_port", port)
    for name in names:
        model.add_host(name, group, hostvars)


# An inventory's values may be passwords (ansible_become_password): errors name the line
# and the key, and never show the text.
_NOT_SHOWN = "the text is not shown: it may be a secret"


def _value(key: str, text: str, where: str) -> Any:
    try:
        value = ini_value(text)
    except KitValueError as exc:
        raise KitValueError(f"{where}: {key}: {exc}") from None
    if isinstance(value, str) and value.startswith("$ANSIBLE_VAULT"):
        raise Unsupported(where, f"the vault-encrypted value of {key}")
    return value


def parse_yaml(text: str, file: Path) -> Model:
    where = f"inventory {file}"
    data = load_yaml(text, where)
    if not data:
        raise KitValueError(f"{where}: empty YAML inventory")
    if not isinstance(data, dict):
        raise KitValueError(f"{where}: expected a mapping at the top level")
    if data.get("plugin"):
        raise Unsupported(where, f"the inventory plugin {data['plugin']!r}")
    model = Model()
    for name, node in data.items():
        _yaml_group(model, str(name), node, where, ())
    model.reconcile()
    return model


def _yaml_group(model: Model, name: str, node: Any, where: str, stack: tuple[str, ...]) -> None:
    if name in stack:
        raise KitValueError(f"{where}: group cycle: {' -> '.join((*stack, name))}")
    if node is not None and not isinstance(node, dict):
        # Ansible skips such an entry with a warning; a group silently missing is refused here.
        raise KitValueError(f"{where}: group {name} must be a mapping")
    model.group(name)
    for key, value in (node or {}).items():
        if isinstance(value, str) and key in ("vars", "children", "hosts"):
            value = {value: None}
        if value is None:
            continue
        if not isinstance(value, dict):
            raise KitValueError(f"{where}: group {name}: {key} must be a mapping")
        if key == "vars":
            for var, item in value.items():
                model.set_group_var(name, str(var), item, f"{where}: group {name}")
        elif key == "children":
            for child, sub in value.items():
                _yaml_group(model, str(child), sub, where, (*stack, name))
                model.add_child(name, str(child), where)
        elif key == "hosts":
            for pattern, hostvars in value.items():
                if not isinstance(pattern, str):
                    raise KitValueError(f"{where}: host name {pattern!r} must be a string")
                if hostvars is not None and not isinstance(hostvars, dict):
                    raise KitValueError(f"{where}: host {pattern} must be a mapping")
                names, port = expand(pattern, f"{where}: group {name}")
                merged = dict(hostvars or {})
                if port is not None:
                    merged.setdefault("ansible_port", port)
                for host in names:
                    model.add_host(host, name, merged)
        else:
            raise KitValueError(f"{where}: group {name}: unexpected key {key!r}")
