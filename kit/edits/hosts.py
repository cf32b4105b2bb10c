"""/etc/hosts: one line per address, `ADDRESS NAME [ALIAS...] [# comment]`.

set_entry makes exactly one line map an address to the wanted names: the
first line for that address is rewritten (its comment kept), later lines for
the same address are dropped, and every other line stays byte-identical.
"""

from __future__ import annotations

import ipaddress
import re

from kit.edits import append_line, ending, fields, lines
from kit.errors import KitValueError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# ipaddress takes any text after "%" as an IPv6 zone, newlines included; a zone
# is an interface name (or index), so only the characters Linux allows in one.
_ZONE = re.compile(r"[A-Za-z0-9_.:@-]{1,15}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST_NAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")


def address(text: str) -> Address | None:
    """The address text spells, or None when it is not one (zone included)."""
    if not isinstance(text, str):
        return None
    try:
        found = ipaddress.ip_address(text)
    except ValueError:
        return None
    zone = getattr(found, "scope_id", None)
    return found if zone is None or _ZONE.fullmatch(zone) else None


def check_address(text: str) -> Address:
    found = address(text)
    if found is None:
        raise KitValueError(f"invalid IP address: {text!r}")
    return found


def parse_line(line: str) -> tuple[Address, tuple[str, ...]] | None:
    """(address, names) a line maps, or None for comments, blanks and malformed lines."""
    body = line.split("#", 1)[0]
    words = fields(body)
    if len(words) < 2:
        return None
    found = address(words[0])
    return (found, tuple(words[1:])) if found is not None else None


def parse(text: str) -> dict[str, tuple[str, ...]]:
    """Names per address (in compressed form); the first line for an address wins, as in lookups."""
    found: dict[str, tuple[str, ...]] = {}
    for line in lines(text):
        entry = parse_line(line)
        if entry is not None:
            found.setdefault(str(entry[0]), entry[1])
    return found


def check_names(names: tuple[str, ...]) -> tuple[str, ...]:
    if not names:
        raise KitValueError("a hosts entry needs at least one name")
    for n in names:
        # RFC 1123 names only: anything else could split the line or start a comment.
        if not isinstance(n, str) or not _HOST_NAME.fullmatch(n):
            raise KitValueError(f"invalid host name for /etc/hosts: {n!r}")
    return names


def format_line(ip: str, names: tuple[str, ...], comment: str = "") -> str:
    line = "\t".join([str(check_address(ip)), " ".join(check_names(names))])
    return f"{line}\t{comment}" if comment else line


def set_entry(text: str, ip: str, *names: str) -> str:
    """Make ip map to names (in that order, the first canonical) on exactly one line."""
    wanted = address(ip)
    line = format_line(ip, names)
    out: list[str] = []
    placed = False
    for old in lines(text):
        entry = parse_line(old)
        if entry is None or entry[0] != wanted:
            out.append(old)
        elif not placed:
            placed = True
            if entry[1] == names:
                out.append(old)
            else:
                comment = old.rstrip("\r\n").partition("#")[2]
                new = format_line(ip, names, f"#{comment}" if "#" in old else "")
                out.append(new + ending(old))
    result = "".join(out)
    return result if placed else append_line(result, line)
