"""Host patterns (`web:&prod:!web3`, `db*`, `~re`, `g[0]`, `g[1:]`) by Ansible's rules."""

from __future__ import annotations

import fnmatch
import re

from kit.errors import KitValueError
from kit.inventory.model import Model
from kit.inventory.parse import _BRACKETED_PORT, _HOST_PORT, _HOSTNAME, _is_address

_SUBSCRIPT = re.compile(r"(.+)\[(?:(-?[0-9]+)|([0-9]+)([:-])([0-9]*))\]")
_SPLIT = re.compile(r"(?:[^\s:\[\]]|\[[^\]]*\])+")


def split(pattern: str) -> list[str]:
    if "," in pattern:
        parts = pattern.split(",")
    elif _is_single_address(pattern):
        parts = [pattern]
    else:
        parts = _SPLIT.findall(pattern)
    return [p.strip() for p in parts if p.strip()]


def _is_single_address(text: str) -> bool:
    match = _BRACKETED_PORT.fullmatch(text) or _HOST_PORT.fullmatch(text)
    host = match.group(1) if match else text
    return bool(_HOSTNAME.fullmatch(host) or _is_address(host))


def evaluate(model: Model, patterns: list[str]) -> list[str]:
    """Host names matching the patterns, in Ansible's order."""
    parts = [p for pattern in patterns for p in split(pattern)]
    regular = [p for p in parts if p[0] not in "!&"] or ["all"]
    ordered = regular + [p for p in parts if p[0] == "&"] + [p for p in parts if p[0] == "!"]
    hosts: list[str] = []
    for part in ordered:
        if part in model.hostvars:
            hosts.append(part)
            continue
        that = _match_one(model, part.lstrip("!&") if part[0] in "!&" else part)
        if part[0] == "!":
            hosts = [h for h in hosts if h not in that]
        elif part[0] == "&":
            hosts = [h for h in hosts if h in that]
        else:
            hosts.extend(h for h in that if h not in hosts)
    unique: list[str] = []
    for host in hosts:
        if host not in unique:
            unique.append(host)
    return unique


def _match_one(model: Model, pattern: str) -> list[str]:
    expr, subscript = pattern, None
    if pattern[0] != "~":
        match = _SUBSCRIPT.fullmatch(pattern)
        if match:
            expr, index, start, sep, end = match.groups()
            if sep == "-":
                raise KitValueError(f"host pattern {pattern!r}: use [x:y], not [x-y]")
            subscript = (int(index), None) if index else (int(start), int(end) if end else -1)
    hosts = _enumerate(model, expr)
    if not hosts or subscript is None:
        return hosts
    start_at, end_at = subscript
    try:
        if end_at:
            return hosts[start_at : (len(hosts) - 1 if end_at == -1 else end_at) + 1]
        return [hosts[start_at]]
    except IndexError:
        raise KitValueError(f"no hosts match the subscripted pattern {pattern!r}") from None


def _enumerate(model: Model, pattern: str) -> list[str]:
    try:
        regex = re.compile(pattern[1:] if pattern[0] == "~" else fnmatch.translate(pattern))
    except re.error:
        raise KitValueError(f"invalid host pattern {pattern!r}") from None
    results: list[str] = []
    groups = [g for g in model.groups if regex.match(g)]
    for group in groups:
        results.extend(model.hosts_of(group))
    if not groups or pattern[0] == "~" or any(c in pattern for c in ".?*["):
        results.extend(h for h in model.hostvars if regex.match(h))
    return results
