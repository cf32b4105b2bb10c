"""sudoers drop-ins (/etc/sudoers.d/NAME): rules `PRINCIPAL HOSTS=(RUNAS) [TAGS:] COMMANDS`.

Each field of a rule is checked against sudoers' grammar for that field
(host list, runas lists, command list) and the line is parsed back before it
is returned, so a field cannot close the runas list early, add a tag or start
another host group. The runner also has `visudo` check the whole
configuration on the host before installing a file.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from kit.edits import append_line, ending, fields, lines
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


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: a principal, its hosts, (runas users : runas groups), tags and commands."""

    principal: str
    hosts: tuple[str, ...]
    runas_users: tuple[str, ...]
    runas_groups: tuple[str, ...]
    tags: tuple[str, ...]
    commands: tuple[str, ...]


_NOT = r"!?"
# Words sudo's lexer takes as keywords wherever they stand (options such as CWD=, tags
# such as NOPASSWD: before a colon, and sudoedit), so a host, user or alias of that name
# would not parse as one: `(NOPASSWD:ALL)` is a syntax error, not a runas user and group.
_TAGS = (
    "NOPASSWD|PASSWD|NOEXEC|EXEC|SETENV|NOSETENV|LOG_INPUT|NOLOG_INPUT|LOG_OUTPUT"
    "|NOLOG_OUTPUT|MAIL|NOMAIL|FOLLOW|NOFOLLOW|INTERCEPT|NOINTERCEPT"
)
_KEYWORD = rf"(?!(?:CHROOT|CWD|ROLE|TYPE|TIMEOUT|NOTBEFORE|NOTAFTER|sudoedit|{_TAGS})\Z)"
_ALIAS = rf"{_KEYWORD}[A-Z][A-Z0-9_]*"
_NETGROUP = r"\+[A-Za-z0-9_][A-Za-z0-9_.-]*"
_HOST_WORD = re.compile(
    rf"{_NOT}{_KEYWORD}(?:{_ALIAS}|{_NETGROUP}|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|(?P<net>[0-9A-Fa-f:.]+(?:/[0-9.]+)?))"
)
_RUNAS_USER = re.compile(
    rf"{_NOT}{_KEYWORD}(?:{_ALIAS}|{_NETGROUP}|#[0-9]+|%#[0-9]+|%[a-z_][a-z0-9_-]*\$?|[a-z_][a-z0-9_-]*\$?)"
)
_RUNAS_GROUP = re.compile(rf"{_NOT}{_KEYWORD}(?:{_ALIAS}|#[0-9]+|[a-z_][a-z0-9_-]*\$?)")
# A command argument: printable ASCII without the characters that end a command
# (",", ":", "=", "#" start of a comment, '"'), unless escaped with a backslash.
_ARG = r"(?:[!$%&\'()*+./0-9;<>?@A-Z\[\]^_`a-z{|}~-]|\\[,:=\\])+"
_SEGMENT = r"[A-Za-z0-9_.*?\[\]+@%~-]+"
# A path ending in "/" is a directory: every command in it, and it takes no arguments.
_DIRECTORY = rf"/(?:{_SEGMENT}/)+"
_FILE = rf"/(?:{_SEGMENT}/)*{_SEGMENT}"
_ARGS = rf'(?:[ \t]+(?:""|{_ARG}(?:[ \t]+{_ARG})*))?'
_COMMAND = re.compile(rf"{_NOT}(?:{_ALIAS}|{_DIRECTORY}|(?:{_FILE}|sudoedit){_ARGS})")


def _items(text: str, label: str) -> list[str]:
    """The comma-separated items of a list field, blanks around them stripped.

    A backslash escapes the next character, so an escaped comma stays in its item.
    """
    if not isinstance(text, str):
        raise KitValueError(f"invalid sudoers {label}: {text!r}")
    items, current, escaped = [], "", False
    for c in text:
        if escaped:
            current, escaped = current + c, False
        elif c == "\\":
            current, escaped = current + c, True
        elif c == ",":
            items.append(current)
            current = ""
        else:
            current += c
    items.append(current)
    return [" ".join(fields(i)) if label == "commands" else i.strip(" \t") for i in items]


def _check_list(
    text: str, label: str, word: re.Pattern[str], whole: str | None = None
) -> tuple[str, ...]:
    items = _items(text, label)
    for item in items:
        found = word.fullmatch(item)
        if found is None or (found.groupdict().get("net") and not _is_network(found["net"])):
            raise KitValueError(f"invalid sudoers {label}: {item!r} in {whole or text!r}")
    return tuple(items)


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def check_hosts(hosts: str) -> tuple[str, ...]:
    """A Host_List: names, addresses or networks, +netgroups, aliases, ALL; `!` negates."""
    return _check_list(hosts, "hosts", _HOST_WORD)


def check_runas(runas: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """What goes between the parentheses: `USERS`, `USERS:GROUPS` or `:GROUPS`."""
    if not isinstance(runas, str) or runas.count(":") > 1:
        raise KitValueError(f"invalid sudoers runas: {runas!r}")
    users, colon, groups = runas.partition(":")
    if not colon and not users.strip(" \t"):
        raise KitValueError(f"invalid sudoers runas: {runas!r}")
    found_users = _check_list(users, "runas", _RUNAS_USER, runas) if users.strip(" \t") else ()
    found_groups = _check_list(groups, "runas group", _RUNAS_GROUP, runas) if colon else ()
    return found_users, found_groups


def check_commands(commands: str) -> tuple[str, ...]:
    """A Cmnd_List: absolute paths (with arguments), directories, sudoedit, aliases, ALL.

    Per-command runas lists, tags and options are not taken here: the rule's
    own runas and nopasswd apply to every command.
    """
    return _check_list(commands, "commands", _COMMAND)


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
    host_list = check_hosts(hosts)
    users, groups = check_runas(runas)
    command_list = check_commands(commands)
    runas_text = ", ".join(users) + (":" + ", ".join(groups) if groups or ":" in runas else "")
    tag = "NOPASSWD: " if nopasswd else ""
    line = f"{principal} {', '.join(host_list)}=({runas_text}) {tag}{', '.join(command_list)}"
    wanted = Rule(
        principal, host_list, users, groups, ("NOPASSWD",) if nopasswd else (), command_list
    )
    if parse_rule(line) != wanted:
        raise KitValueError(f"sudoers fields do not make one rule: {line!r}")
    return line


_RULE = re.compile(
    r"[ \t]*(?P<who>[^ \t]+)[ \t]+(?P<hosts>[^=]*?)[ \t]*=[ \t]*\((?P<runas>[^()]*)\)[ \t]*"
    r"(?P<tags>(?:[A-Z_]+[ \t]*:[ \t]*)*)(?P<commands>.*?)[ \t]*\n?"
)


def parse_rule(line: str) -> Rule | None:
    """The rule a one-line `PRINCIPAL HOSTS=(RUNAS) [TAGS:] COMMANDS` holds, or None.

    None also for anything outside that shape (several host groups, per-command
    runas lists or tags): this module never writes those.
    """
    found = _RULE.fullmatch(line)
    if found is None:
        return None
    tags = tuple(t.strip(" \t") for t in found["tags"].split(":")[:-1])
    try:
        check_principal(found["who"])
        users, groups = check_runas(found["runas"])
        if any(t not in _TAGS for t in tags):
            return None
        return Rule(
            found["who"],
            check_hosts(found["hosts"]),
            users,
            groups,
            tags,
            check_commands(found["commands"]),
        )
    except KitValueError:
        return None


def drop_in(*rules: str) -> str:
    """A whole drop-in file: the header and one rule per line."""
    body = "".join(r + "\n" for r in rules)
    if any("\n" in r.rstrip("\n") or "\0" in r for r in rules):
        raise KitValueError("a sudoers rule must be one line")
    return HEADER + body


# A backslash continues a line when it is not itself escaped, even with blanks after
# it; one inside a comment does not.
_CONTINUED = re.compile(r"(?<!\\)(?:\\\\)*\\[ \t]*\Z")
_COMMENT = re.compile(r"(?<!\\)#(?!-?[0-9])")
_JOIN = re.compile(r"\\[ \t]*\n")


def _continues(line: str) -> bool:
    body = line.removesuffix("\n")
    comment = _COMMENT.search(body)
    return _CONTINUED.search(body[: comment.start()] if comment else body) is not None


def logical_lines(text: str) -> list[str]:
    """Physical lines joined where one ends in a backslash continuation."""
    out: list[str] = []
    pending = ""
    for line in lines(text):
        pending += line
        if not _continues(line):
            out.append(pending)
            pending = ""
    if pending:
        out.append(pending)
    return out


def principal_of(line: str) -> str | None:
    """The user or %group a rule line is for; None for comments, Defaults, aliases, includes."""
    # Blanks are spaces and tabs, as sudoers defines them; a form feed or \x85 is not one.
    words = fields(line)
    if not words or words[0][0] in "#@":
        return None
    first = words[0]
    if first.startswith("Defaults") or first.endswith("_Alias") or "=" in first:
        return None
    return first


def _rest(line: str) -> str:
    """A rule's text after its principal, continuations joined and blanks collapsed."""
    return " ".join(fields(_JOIN.sub(" ", line))[1:])


def parse(text: str) -> dict[str, str]:
    """Principal -> the rest of its first rule line, blanks collapsed."""
    found: dict[str, str] = {}
    for line in logical_lines(text):
        who = principal_of(line)
        if who is not None:
            found.setdefault(who, _rest(line))
    return found


def set_rule(text: str, new_rule: str) -> str:
    """Make text hold new_rule as the one rule for its principal; other lines untouched."""
    parsed = parse_rule(new_rule) if isinstance(new_rule, str) and "\n" not in new_rule else None
    if parsed is None:
        raise KitValueError(f"not a sudoers rule line: {new_rule!r}")
    who = parsed.principal
    want = _rest(new_rule)
    out: list[str] = []
    placed = False
    for old in logical_lines(text):
        if principal_of(old) != who:
            out.append(old)
        elif not placed:
            placed = True
            out.append(old if parse(old).get(who) == want else new_rule + ending(old))
    result = "".join(out)
    if placed:
        return result
    if result and _continues(lines(result)[-1]):
        # The file ends in a continuation: an empty line ends it, or it would swallow the rule.
        result = append_line(result, "")
    return append_line(result, new_rule)
