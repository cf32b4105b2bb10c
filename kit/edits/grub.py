"""GRUB's kernel command line: /etc/default/grub and its grub.d drop-ins, the generated
grub.cfg, and grubby's answer. Pure text in, text out.

update-grub (grub-mkconfig) sources /etc/default/grub, then /etc/default/grub.d/*.cfg in
name order, and puts GRUB_CMDLINE_LINUX and GRUB_CMDLINE_LINUX_DEFAULT on every default
entry's `linux` line; a drop-in that says `GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX x"`
adds x to what the files before it set.
"""

from __future__ import annotations

import re
import shlex

from kit.edits import append_line, lines
from kit.errors import KitValueError

CMDLINE_VARS = ("GRUB_CMDLINE_LINUX", "GRUB_CMDLINE_LINUX_DEFAULT")
HEADER = "# Managed by hostkit: kernel command line arguments the checks want.\n"

_ASSIGN = re.compile(r"^\s*(?:export\s+)?(GRUB_CMDLINE_LINUX(?:_DEFAULT)?)=(.*)$")
_CONTROLLER = re.compile(r"^[a-z_]{1,32}$")
_DISABLE = re.compile(
    r"(?P<pre>[ \t])?(?<![^ \t\"'=])cgroup_disable=(?P<list>[A-Za-z0-9_,]+)(?P<post>[ \t])?"
)


def check_controller(name: str) -> str:
    if not _CONTROLLER.match(name):
        raise KitValueError(f"invalid cgroup controller name: {name!r}")
    return name


def split_args(value: str) -> list[str]:
    """The arguments of a shell-quoted value (`"quiet splash"`); unbalanced quotes give the
    words as written."""
    try:
        words = shlex.split(value, comments=True)
    except ValueError:
        words = value.split()
    return [arg for word in words for arg in word.split()]


def assignments(text: str) -> list[tuple[str, list[str]]]:
    """(variable, its arguments) of every GRUB_CMDLINE_LINUX(_DEFAULT) assignment, in order."""
    found = []
    for line in lines(text):
        match = _ASSIGN.match(line.rstrip("\n"))
        if match:
            found.append((match.group(1), split_args(match.group(2))))
    return found


def disabling(args: list[str], controller: str) -> str | None:
    """The `cgroup_disable=` argument that names controller, if any."""
    for arg in args:
        key, _, value = arg.partition("=")
        if key == "cgroup_disable" and controller in value.split(","):
            return arg
    return None


def enabling(args: list[str], controller: str) -> str | None:
    for arg in args:
        key, _, value = arg.partition("=")
        if key == "cgroup_enable" and controller in value.split(","):
            return arg
    return None


def turns_on(args: list[str], controller: str) -> bool:
    """Whether a command line asks for controller: cgroup_enable names it and no
    cgroup_disable does (the kernel applies cgroup_disable whatever the order)."""
    return enabling(args, controller) is not None and disabling(args, controller) is None


def drop_disable(text: str, controller: str) -> str:
    """text with controller taken out of every cgroup_disable= list in the command line
    assignments (the argument goes when nothing is left in it); other lines unchanged."""
    check_controller(controller)

    def edit(match: re.Match[str]) -> str:
        pre, post = match.group("pre") or "", match.group("post") or ""
        rest = [c for c in match.group("list").split(",") if c != controller]
        if rest:
            return f"{pre}cgroup_disable={','.join(rest)}{post}"
        # The argument goes with one of the blanks around it.
        return pre if pre and post else ""

    out = []
    for line in lines(text):
        match = _ASSIGN.match(line.rstrip("\n"))
        if match and disabling(split_args(match.group(2)), controller):
            out.append(_DISABLE.sub(edit, line))
        else:
            out.append(line)
    return "".join(out)


def with_enable(dropin: str, controller: str) -> str:
    """The managed drop-in's text with `cgroup_enable=controller` added to
    GRUB_CMDLINE_LINUX after what the files before it set; unchanged when it has it."""
    check_controller(controller)
    return with_arg(dropin, f"cgroup_enable={controller}")


def with_arg(dropin: str, wanted: str) -> str:
    """The managed drop-in's text with the argument wanted added to GRUB_CMDLINE_LINUX
    after what the files before it set; unchanged when it has it."""
    text = dropin or HEADER
    out, placed = [], False
    for line in lines(text):
        match = _ASSIGN.match(line.rstrip("\n"))
        if match and match.group(1) == "GRUB_CMDLINE_LINUX" and not placed:
            args = [a for a in split_args(match.group(2)) if a != "$GRUB_CMDLINE_LINUX"]
            if wanted not in args:
                args.append(wanted)
            out.append(_line(args))
            placed = True
        elif not (match and match.group(1) == "GRUB_CMDLINE_LINUX"):
            out.append(line)
    result = "".join(out)
    return result if placed else append_line(result, _line([wanted]).rstrip("\n"))


def _line(args: list[str]) -> str:
    return 'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX ' + " ".join(args) + '"\n'


# systemd's cgroup hierarchy on the kernel command line: a false
# systemd.unified_cgroup_hierarchy boots cgroup v1 (hybrid, or legacy with
# systemd.legacy_systemd_cgroup_controller), a true one or a bare name boots v2. systemd
# reads booleans as parse_boolean does, and the last occurrence wins.
UNIFIED = "systemd.unified_cgroup_hierarchy"
LEGACY = "systemd.legacy_systemd_cgroup_controller"
UNIFIED_ON = f"{UNIFIED}=1"
_FALSE = frozenset({"0", "no", "n", "false", "f", "off"})
_V1_ARG = re.compile(
    r"(?P<pre>[ \t])?(?<![^ \t\"'=])"
    rf"(?:{re.escape(UNIFIED)}=(?i:0|no|n|false|f|off)|{re.escape(LEGACY)}(?:=[^ \t\"'#]*)?)"
    r"(?=[ \t\"'#]|$)(?P<post>[ \t])?"
)


def unified(args: list[str]) -> bool | None:
    """What the last systemd.unified_cgroup_hierarchy on a command line asks for: True
    (cgroup v2), False (v1), None when none is there."""
    found = None
    for arg in args:
        key, eq, value = arg.partition("=")
        if key == UNIFIED:
            found = not (eq and value.lower() in _FALSE)
    return found


def forcing_v1(args: list[str]) -> str | None:
    """The argument that makes systemd boot cgroup v1, if the command line has one."""
    if unified(args) is not False:
        return None
    return [a for a in args if a.partition("=")[0] == UNIFIED][-1]


def drop_v1(text: str) -> str:
    """text with every false systemd.unified_cgroup_hierarchy and every
    systemd.legacy_systemd_cgroup_controller taken out of the command line assignments;
    other lines, and the other arguments, unchanged."""

    def edit(match: re.Match[str]) -> str:
        pre, post = match.group("pre") or "", match.group("post") or ""
        return pre if pre and post else ""

    out = []
    for line in lines(text):
        match = _ASSIGN.match(line.rstrip("\n"))
        out.append(_V1_ARG.sub(edit, line) if match else line)
    return "".join(out)


def grub_cfg_args(text: str) -> list[str] | None:
    """The arguments on the first entry's `linux` line of a generated grub.cfg (the entry
    GRUB_DEFAULT=0 boots), without the kernel's path; None without one (a BLS setup)."""
    in_entry = False
    for line in lines(text):
        words = line.split()
        if not words:
            continue
        if words[0] == "menuentry":
            in_entry = True
        elif in_entry and words[0] in ("linux", "linuxefi", "linux16") and len(words) > 1:
            return words[2:]
    return None


def grubby_args(text: str) -> list[str] | None:
    """The args="..." of `grubby --info=DEFAULT`."""
    for line in lines(text):
        if line.startswith("args="):
            return split_args(line[len("args=") :])
    return None
