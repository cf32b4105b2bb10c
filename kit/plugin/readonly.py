"""Whether a command line a test wrote itself (`host.run("...")`) only reads the host.

testinfra's modules send fixed templates, which `kit.plugin.batch.READS` knows one by
one. A suite's own commands are free text; this module takes one as a read only when it
is a plain pipeline of known read-only tools, so that it may be answered from a batch:

- words and `|` only: no redirection, command substitution, variable, glob, `;`, `&`,
  subshell or comment, and no assignment in front of a command;
- each command is a tool below, named bare or by its path under /bin, /usr/bin, /sbin or
  /usr/sbin, with the arguments that tool takes without writing, waiting or acting;
- no argument names a device (opening one can act: a watchdog starts when opened) or
  climbs with `..`.

Anything else is not known to be a read, runs live and drops the run's batches. The
process listers (`ps`, `pgrep`) are left out on purpose: inside a batch they would see
the batch itself, whose command line holds the other reads' text.
"""

from __future__ import annotations

from collections.abc import Callable

_UNQUOTED_SPECIAL = frozenset(";&<>()$`{}*?[]~!#\\\n\r\0")
_DOUBLE_QUOTED_SPECIAL = frozenset("$`\\!\0")
_TOOL_DIRS = ("/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/")


def pipeline(line: str) -> list[list[str]] | None:
    """The line's commands as lists of words; None when it uses more of the shell than that."""
    commands: list[list[str]] = [[]]
    word: str | None = None
    i = 0
    while i < len(line):
        c = line[i]
        if c in " \t":
            if word is not None:
                commands[-1].append(word)
                word = None
        elif c == "|":
            if word is not None:
                commands[-1].append(word)
                word = None
            if not commands[-1]:
                return None
            commands.append([])
        elif c in "'\"":
            end = line.find(c, i + 1)
            if end < 0:
                return None
            inner = line[i + 1 : end]
            if c == '"' and any(ch in _DOUBLE_QUOTED_SPECIAL for ch in inner):
                return None
            word = (word or "") + inner
            i = end
        elif c in _UNQUOTED_SPECIAL:
            return None
        else:
            word = (word or "") + c
        i += 1
    if word is not None:
        commands[-1].append(word)
    if not commands[-1]:
        return None
    return commands


def is_read_only(line: str) -> bool:
    """Whether every command of the line is a known read-only tool with harmless arguments."""
    commands = pipeline(line)
    if commands is None:
        return False
    for words in commands:
        name, args = words[0], words[1:]
        if "=" in name:
            return False
        tool = _tool_name(name)
        rule = TOOLS.get(tool) if tool is not None else None
        if rule is None or not rule(args) or not all(_harmless_path(a) for a in args):
            return False
    return True


def _tool_name(word: str) -> str | None:
    if "/" not in word:
        return word
    for prefix in _TOOL_DIRS:
        rest = word.removeprefix(prefix)
        if rest != word and "/" not in rest and rest:
            return rest
    return None


def _harmless_path(arg: str) -> bool:
    if "\0" in arg:
        return False
    # An option's value may be a path too (`--file=/dev/x`): look past the `=`.
    value = arg.split("=", 1)[1] if arg.startswith("-") and "=" in arg else arg
    parts = value.split("/")
    if ".." in parts:
        return False
    return not (value == "/dev" or value.startswith("/dev/")) or value == "/dev/null"


# -- per tool: which arguments keep it a read --------------------------------------------

Rule = Callable[[list[str]], bool]


def _any(args: list[str]) -> bool:
    return True


def _none(args: list[str]) -> bool:
    return not args


def _without(*options: str, letters: str = "") -> Rule:
    """Any arguments but these long options (or their `=` forms) and short letters."""

    def rule(args: list[str]) -> bool:
        for arg in args:
            if arg.startswith("--"):
                if arg.split("=", 1)[0] in options:
                    return False
            elif arg.startswith("-") and any(ch in letters for ch in arg[1:]):
                return False
        return True

    return rule


def _only(*options: str, values: Callable[[str], bool] = lambda a: False) -> Rule:
    """Only these exact options, and the non-option words `values` accepts."""

    def rule(args: list[str]) -> bool:
        return all(a in options or (not a.startswith("-") and values(a)) for a in args)

    return rule


def _first_word_in(*words: str, banned: tuple[str, ...] = ()) -> Rule:
    """A subcommand from `words` as the first non-option word; no option from `banned`."""

    def rule(args: list[str]) -> bool:
        for arg in args:
            if arg.startswith("-"):
                if arg.split("=", 1)[0] in banned:
                    return False
                continue
            return arg in words
        return "" in words

    return rule


def _uniq(args: list[str]) -> bool:
    # A second file operand is where uniq writes.
    return sum(not a.startswith("-") for a in args) <= 1 and _without(
        "--skip-fields", "--skip-chars", "--check-chars", letters="fsw"
    )(args)


def _sysctl(args: list[str]) -> bool:
    # `key=value`, -w, -p and --system all set values.
    return _only(
        "-n", "-N", "-e", "-a", "-A", "-X", "-b", "-q", "--all", "--values", "--names",
        values=lambda a: "=" not in a,
    )(args)  # fmt: skip


def _date(args: list[str]) -> bool:
    # A bare operand (MMDDhhmm) or -s sets the clock; +FORMAT only prints.
    return all(a.startswith("+") or a in ("-u", "--utc", "--universal", "-R", "-I") for a in args)


def _rpm(args: list[str]) -> bool:
    if not args or not (args[0].startswith("-q") or args[0] == "--query"):
        return False
    banned = ("--pipe", "--eval", "-E", "--define", "-D", "--macros", "--rcfile", "--dbpath")
    return not any(a.split("=", 1)[0] in banned or "%(" in a for a in args)


_READERS = (
    "cat", "head", "grep", "egrep", "fgrep", "wc", "stat", "ls", "test", "readlink", "realpath",
    "basename", "dirname", "md5sum", "sha1sum", "sha256sum", "sha512sum", "cksum", "cut", "tr",
    "uname", "id", "whoami", "groups", "getent", "nproc", "arch", "lsmod", "modinfo", "uptime",
    "echo", "printf", "true", "false", "cmp", "diff", "which", "du", "df", "lsblk", "dpkg-query",
    "getenforce", "sestatus", "lscpu", "type",
)  # fmt: skip
_FIND_ACTS = (
    "-delete",
    "-exec",
    "-execdir",
    "-ok",
    "-okdir",
    "-fprint",
    "-fprint0",
    "-fprintf",
    "-fls",
)
_HOSTNAME_SHOWS = (
    "-f", "-s", "-d", "-i", "-I", "-A", "-a", "--fqdn", "--long", "--short", "--domain",
    "--ip-address", "--all-ip-addresses", "--all-fqdns", "--alias",
)  # fmt: skip
_SYSTEMCTL_QUERIES = (
    "is-active", "is-enabled", "is-failed", "is-system-running", "show", "status", "cat",
    "list-units", "list-unit-files", "list-timers", "list-sockets", "get-default",
    "list-dependencies",
)  # fmt: skip
# Options that point a systemd tool at another machine or container.
_ELSEWHERE = ("-H", "--host", "-M", "--machine")

TOOLS: dict[str, Rule] = {
    **dict.fromkeys(_READERS, _any),
    # -C compiles a magic file, which writes it.
    "file": _without("--compile", letters="C"),
    # Each of these can also wait for changes instead of printing what is there now.
    "tail": _without("--follow", "--retry", letters="fF"),
    "free": _without("--seconds", "--count", letters="sc"),
    "findmnt": _without("--poll", "--timeout", letters="pw"),
    "sort": _without("--output", "--compress-program", letters="o"),
    "uniq": _uniq,
    "find": lambda args: not any(a in _FIND_ACTS for a in args),
    "ss": _without("--kill", "--diag", letters="KD"),
    "hostname": _only(*_HOSTNAME_SHOWS),
    "date": _date,
    "sysctl": _sysctl,
    "rpm": _rpm,
    "command": lambda args: len(args) >= 2 and args[0] == "-v",
    "systemctl": _first_word_in(*_SYSTEMCTL_QUERIES, banned=_ELSEWHERE),
    "timedatectl": _first_word_in("", "status", "show", "timesync-status", banned=_ELSEWHERE),
    "swapon": _only("--show", "-s", "--summary", "--noheadings", "--raw", "--bytes"),
}
