"""`key=value` files (/etc/default/*, os-release style, daemon configs), and
`Key value` files such as sshd_config (sep=" ").

Values are kept as written, quotes included; `unquote` strips one pair. With sep=" "
any run of blanks separates key and value, as sshd_config(5) reads them. fold_case
compares keys case-insensitively (sshd's keywords are); until names the keyword that
ends the global part of the file (sshd's `Match`), past which nothing is read or
changed, since a setting there applies only to the connections it matches.
"""

from __future__ import annotations

import re

from kit.edits import append_line, ending, lines
from kit.errors import KitValueError

_BLANKS = re.compile(r"[ \t]+")


def parse_line(line: str, *, sep: str = "=") -> tuple[str, str] | None:
    stripped = line.strip(" \t\r\n")
    if not stripped or stripped[0] == "#":
        return None
    if sep == " ":
        parts = _BLANKS.split(stripped, maxsplit=1)
        return (parts[0], parts[1]) if len(parts) == 2 else None
    if sep not in stripped:
        return None
    key, _, value = stripped.partition(sep)
    key = key.strip(" \t")
    return (key, value.strip(" \t")) if key else None


def parse(text: str, *, sep: str = "=") -> dict[str, str]:
    """Every key with its value; a later line wins, as a shell sourcing the file would."""
    found: dict[str, str] = {}
    for line in lines(text):
        kv = parse_line(line, sep=sep)
        if kv is not None:
            found[kv[0]] = kv[1]
    return found


def value_of(
    text: str, key: str, *, sep: str = "=", fold_case: bool = False, until: str | None = None
) -> str | None:
    """key's value as a daemon that takes the first value it reads sees it (sshd does:
    "the first obtained value will be used"), or None when the file does not set it."""
    for line in lines(text):
        kv = parse_line(line, sep=sep)
        if kv is None:
            continue
        if until is not None and _same(kv[0], until, fold_case):
            return None
        if _same(kv[0], key, fold_case):
            return kv[1]
    return None


def _same(a: str, b: str, fold_case: bool) -> bool:
    return a.lower() == b.lower() if fold_case else a == b


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def set_value(
    text: str,
    key: str,
    value: str,
    *,
    sep: str = "=",
    spaced: bool = False,
    fold_case: bool = False,
    until: str | None = None,
) -> str:
    """Make text set key to value: first line for key replaced, later ones dropped.

    A line already holding value is kept as written. spaced writes `key = value`
    (sep=" " always writes `key value`). With until, lines from the first `until`
    line on are kept as they are, and a new line goes just before it.
    """
    _check(key, value, sep)
    if sep == " ":
        line = f"{key} {value}"
    else:
        line = f"{key} {sep} {value}" if spaced else f"{key}{sep}{value}"
    out: list[str] = []
    placed = False
    ended = False
    for old in lines(text):
        kv = None if ended else parse_line(old, sep=sep)
        if kv is not None and until is not None and _same(kv[0], until, fold_case):
            ended = True
            if not placed:
                out.append(line + "\n")
                placed = True
            out.append(old)
        elif kv is None or not _same(kv[0], key, fold_case):
            out.append(old)
        elif not placed:
            out.append(old if kv[1] == value else line + ending(old))
            placed = True
    result = "".join(out)
    return result if placed else append_line(result, line)


def _check(key: str, value: str, sep: str) -> None:
    blank = sep == " "
    if not sep or any(c in sep for c in "\n\r#") or (sep.strip(" \t") != sep and not blank):
        raise KitValueError(f"invalid separator: {sep!r}")
    bad_sep = any(c in key for c in " \t") if blank else sep in key
    bad_key = not key or bad_sep or key != key.strip(" \t") or key[0] == "#"
    if bad_key or any(c in key for c in "\n\r\0"):
        raise KitValueError(f"invalid key: {key!r}")
    empty = blank and not value
    if empty or value != value.strip(" \t") or any(c in value for c in "\n\r\0"):
        raise KitValueError(f"invalid value for {key}: {value!r}")
