"""`key=value` files (/etc/default/*, os-release style, daemon configs).

Values are kept as written, quotes included; `unquote` strips one pair.
"""

from __future__ import annotations

from kit.edits import append_line, ending, lines
from kit.errors import KitValueError


def parse_line(line: str, *, sep: str = "=") -> tuple[str, str] | None:
    stripped = line.strip(" \t\r\n")
    if not stripped or stripped[0] == "#" or sep not in stripped:
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


def unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def set_value(text: str, key: str, value: str, *, sep: str = "=", spaced: bool = False) -> str:
    """Make text set key to value: first line for key replaced, later ones dropped.

    A line already holding value is kept as written. spaced writes `key = value`.
    """
    _check(key, value, sep)
    line = f"{key} {sep} {value}" if spaced else f"{key}{sep}{value}"
    out: list[str] = []
    placed = False
    for old in lines(text):
        kv = parse_line(old, sep=sep)
        if kv is None or kv[0] != key:
            out.append(old)
        elif not placed:
            out.append(old if kv[1] == value else line + ending(old))
            placed = True
    result = "".join(out)
    return result if placed else append_line(result, line)


def _check(key: str, value: str, sep: str) -> None:
    if not sep or any(c in sep for c in "\n\r#") or sep.strip(" \t") != sep:
        raise KitValueError(f"invalid separator: {sep!r}")
    bad_key = not key or sep in key or key != key.strip(" \t") or key[0] == "#"
    if bad_key or any(c in key for c in "\n\r\0"):
        raise KitValueError(f"invalid key: {key!r}")
    if value != value.strip(" \t") or any(c in value for c in "\n\r\0"):
        raise KitValueError(f"invalid value for {key}: {value!r}")
