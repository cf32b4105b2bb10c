"""sysctl.d files: `key = value` lines, `#` and `;` comments.

Keys may use `/` as separator (sysctl.d(5): when the first separator is a
slash, slashes and dots swap roles); values compare with blanks collapsed, so
`32768\t60999` and `32768 60999` are the same setting.
"""

from __future__ import annotations

from kit.edits import append_line, ending, fields, lines
from kit.errors import KitValueError


def normalise_key(key: str) -> str:
    key = key.strip(" \t")
    slash, dot = key.find("/"), key.find(".")
    if slash != -1 and (dot == -1 or slash < dot):
        key = key.translate(str.maketrans("/.", "./"))
    return key


def normalise_value(value: str) -> str:
    return " ".join(fields(value))


def same_value(a: str, b: str) -> bool:
    return normalise_value(a) == normalise_value(b)


def parse_line(line: str) -> tuple[str, str] | None:
    """(key, value) a line sets, or None for comments, blanks and lines without `=`."""
    stripped = line.strip(" \t\r\n")
    if not stripped or stripped[0] in "#;" or "=" not in stripped:
        return None
    key, _, value = stripped.partition("=")
    # A leading "-" only tells systemd-sysctl to ignore a failure to set the key.
    key = normalise_key(key.strip(" \t").removeprefix("-"))
    return (key, normalise_value(value)) if key else None


def parse(text: str) -> dict[str, str]:
    """Every key the text sets, with its value; a later line wins, as at boot."""
    found: dict[str, str] = {}
    for line in lines(text):
        kv = parse_line(line)
        if kv is not None:
            found[kv[0]] = kv[1]
    return found


def lookup(text: str, key: str) -> str | None:
    return parse(text).get(normalise_key(key))


def format_line(key: str, value: str) -> str:
    if not key or key[0] in "-#;" or any(c in key for c in "=\n\r\t \0"):
        raise KitValueError(f"invalid sysctl key: {key!r}")
    if "\n" in value or "\r" in value or "\0" in value:
        raise KitValueError(f"invalid sysctl value for {key}: {value!r}")
    return f"{key} = {normalise_value(value)}"


def set_key(text: str, key: str, value: str) -> str:
    """Make text set key to value: the first line for key is replaced, later ones dropped.

    A line that already holds the value (blanks aside) is kept as written.
    """
    wanted = normalise_key(key)
    line = format_line(wanted, value)
    out: list[str] = []
    placed = False
    for old in lines(text):
        kv = parse_line(old)
        if kv is None or kv[0] != wanted:
            out.append(old)
        elif not placed:
            out.append(old if same_value(kv[1], value) else line + ending(old))
            placed = True
    result = "".join(out)
    return result if placed else append_line(result, line)
