"""Set one scalar in a block-style YAML mapping, leaving every other line as it was.

A whole-file YAML round trip would drop comments and reorder quoting; the kubelet's
config file is often kept by hand or by a config manager that diffs it. So the edit is
made on the lines: the key's value is replaced in place, or the missing keys are added
at the end of their parent's block. The result is loaded again and compared with the
wanted data; a layout the line edit does not understand (flow mappings, several
documents, anchors) falls back to a full dump of the wanted data, comments lost.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from typing import Any

import yaml

from kit.edits import lines
from kit.errors import KitValueError

_PLAIN = re.compile(r"^[A-Za-z0-9_./:@+-]+$")


def load(text: str, source: str = "YAML") -> dict[str, Any]:
    """The top-level mapping of text ({} for an empty document)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise KitValueError(f"{source}: invalid YAML: {first}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise KitValueError(f"{source}: expected a mapping at the top level")
    return data


def get(data: Any, path: Sequence[str]) -> Any:
    """The value at path, or None when any key on the way is missing."""
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def scalar(value: bool | int | str) -> str:
    """value as a YAML scalar that loads back as the same type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if _PLAIN.match(value) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value)


def set_scalar(text: str, path: Sequence[str], value: bool | int | str) -> str:
    """text with path (a sequence of mapping keys) set to value."""
    if not path:
        raise KitValueError("set_scalar needs a non-empty key path")
    data = load(text)
    wanted = copy.deepcopy(data)
    node = wanted
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[path[-1]] = value
    if data == wanted:
        return text
    edited = _edit_lines(text, list(path), scalar(value))
    if edited is not None:
        try:
            if yaml.safe_load(edited) == wanted:
                return edited
        except yaml.YAMLError:
            pass
    return yaml.safe_dump(wanted, sort_keys=False, default_flow_style=False)


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _key_line(line: str, key: str) -> re.Match[str] | None:
    pattern = r"^( *)([\"']?)" + re.escape(key) + r"\2[ \t]*:(?=[ \t]|$)[ \t]*(.*?)[ \t]*$"
    return re.match(pattern, line.rstrip("\n"))


def _block_end(ls: list[str], index: int, indent: int, end: int) -> int:
    """Where the block under the key line at index ends (a compact list at the key's own
    indent belongs to the key)."""
    for j in range(index + 1, end):
        line = ls[j]
        if not _content(line):
            continue
        if _indent(line) < indent or (
            _indent(line) == indent and not line.lstrip(" ").startswith("- ")
        ):
            return j
    return end


def _edit_lines(text: str, path: list[str], rendered: str) -> str | None:
    ls = lines(text)
    start, end, parent = 0, len(ls), -1
    if ls and ls[0].rstrip() == "---":
        start = 1
    for depth, key in enumerate(path):
        children = [i for i in range(start, end) if _content(ls[i])]
        indent = _indent(ls[children[0]]) if children else (parent + 2 if parent >= 0 else 0)
        found = next(
            (i for i in children if _indent(ls[i]) == indent and _key_line(ls[i], key)), None
        )
        if found is None:
            # The end of the parent's block: after its last line with content.
            at = children[-1] + 1 if children else start
            if at > 0 and not ls[at - 1].endswith("\n"):
                ls[at - 1] += "\n"
            ls[at:at] = _nested(path[depth:], indent, rendered)
            return "".join(ls)
        match = _key_line(ls[found], key)
        assert match is not None
        rest = match.group(3)
        if depth == len(path) - 1:
            if rest == "" or rest.startswith(("|", ">", "&", "*", "{", "[")):
                return None
            _, comment = _split_comment(rest)
            newline = "\n" if ls[found].endswith("\n") else ""
            head = ls[found].rstrip("\n")[: match.start(3)]
            ls[found] = head + rendered + comment + newline
            return "".join(ls)
        if rest and not rest.startswith("#"):
            return None  # a flow mapping or a scalar where a mapping is wanted
        start, end, parent = found + 1, _block_end(ls, found, indent, end), indent
    return None


def _split_comment(rest: str) -> tuple[str, str]:
    """(value, " # comment") of what follows a key's colon, for unquoted values."""
    if rest[:1] in "\"'":
        return rest, ""
    found = re.search(r"[ \t]+#", rest)
    if found is None:
        return rest, ""
    return rest[: found.start()], rest[found.start() :]


def _nested(keys: list[str], indent: int, rendered: str) -> list[str]:
    out = []
    for depth, key in enumerate(keys):
        pad = " " * (indent + 2 * depth)
        last = depth == len(keys) - 1
        out.append(f"{pad}{scalar(key)}:" + (f" {rendered}\n" if last else "\n"))
    return out
