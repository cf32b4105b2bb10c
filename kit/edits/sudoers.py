"""sudoers drop-ins (/etc/sudoers.d/NAME): rules `PRINCIPAL HOSTS=(RUNAS) [TAGS:] COMMANDS`.

The runner validates the whole file with `visudo -cf` on the host before
installing it; these functions only build text and refuse names that would
make sudo ignore the file or read a rule for the wrong principal.
"""

from __future__ import annotations

import re

from kit.edits import append_line, ending, lines
from kit.errors import KitValueError

HEADER = "# Managed by hostkit; edits here are replaced.\n"

# sudo skips sudoers.d files whose name ends in "~" or contains "."; refuse them rather than
# install a file that silently does nothing.
_FILE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_USER = re.compile(r"^[a-z_][a-z0-9_-]{0,31}\$?$")
_TAGS = ("NOPASSWD", "PASSWD", "SETENV", "NOSETENV", "NOEXEC", "EXEC")


def check_file_name(name: str) -> str:
    if not isinstance(name, str) or not _FILE_NAME.fullmatch(name):
        raise KitValueError(
            f"invalid sudoers drop-in name {name!r}: letters, digits, '_' and '-' only "
            "(sudo ignores names with '.' or ending in '~')"
        )
    return name


def check_principal(principal: str) -> str:
    """A user name, or a group as %name."""
    bare = principal[1:] if principal.startswith("%") else principal
    if not _USER.fullmatch(bare):
        raise KitValueError(f"invalid sudoers user or %group: {principal!r}")
    return principal


def rule(
    principal: str,
    commands: str = "ALL",
    *,
    runas: str = "ALL",
    hosts: str = "ALL",
    nopasswd: bool = False,
) -> str:
    """One rule line, e.g. `deploy ALL=(ALL) NOPASSWD: /usr/bin/systemctl`."""
    check_principal(principal)
    for label, value in (("commands", commands), ("runas", runas), ("hosts", hosts)):
        if not value.strip() or any(c in value for c in "\n\r\0\\#"):
            raise KitValueError(f"invalid sudoers {label}: {value!r}")
    tag = "NOPASSWD: " if nopasswd else ""
    return f"{principal} {hosts}=({runas}) {tag}{commands}"


def drop_in(*rules: str) -> str:
    """A whole drop-in file: the header and one rule per line."""
    body = "".join(r + "\n" for r in rules)
    if any("\n" in r.rstrip("\n") or "\0" in r for r in rules):
        raise KitValueError("a sudoers rule must be one line")
    return HEADER + body


def _logical_lines(text: str) -> list[str]:
    """Physical lines joined where one ends in a backslash continuation."""
    out: list[str] = []
    pending = ""
    for line in lines(text):
        pending += line
        if not line.rstrip("\r\n").endswith("\\"):
            out.append(pending)
            pending = ""
    if pending:
        out.append(pending)
    return out


def principal_of(line: str) -> str | None:
    """The user or %group a rule line is for; None for comments, Defaults, aliases, includes."""
    stripped = line.strip(" \t\r\n")
    if not stripped or stripped[0] in "#@":
        return None
    first = stripped.split(None, 1)[0]
    if first.startswith("Defaults") or first.endswith("_Alias") or "=" in first:
        return None
    return first


def parse(text: str) -> dict[str, str]:
    """Principal -> the rest of its first rule line, blanks collapsed."""
    found: dict[str, str] = {}
    for line in _logical_lines(text):
        who = principal_of(line)
        if who is not None:
            rest = line.strip(" \t\r\n").split(None, 1)[1:] or [""]
            found.setdefault(who, " ".join(rest[0].replace("\\\n", " ").split()))
    return found


def set_rule(text: str, new_rule: str) -> str:
    """Make text hold new_rule as the one rule for its principal; other lines untouched."""
    who = principal_of(new_rule)
    if who is None or "\n" in new_rule:
        raise KitValueError(f"not a sudoers rule line: {new_rule!r}")
    check_principal(who)
    want = " ".join(new_rule.split(None, 1)[1].split()) if " " in new_rule.strip() else ""
    out: list[str] = []
    placed = False
    for old in _logical_lines(text):
        if principal_of(old) != who:
            out.append(old)
        elif not placed:
            placed = True
            out.append(old if parse(old).get(who) == want else new_rule + ending(old))
    result = "".join(out)
    return result if placed else append_line(result, new_rule)
