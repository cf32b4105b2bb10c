"""modules-load.d (one module name a line) and modprobe.d (`options`, `install`, ...).

modprobe treats `-` and `_` in module names as the same character; so do these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kit.edits import append_line, ending, fields, lines
from kit.errors import KitValueError

# What an `install NAME CMD` line runs instead of loading, when it means "never load".
_BLOCKERS = {"/bin/false", "/bin/true", "/usr/bin/false", "/usr/bin/true", "false", "true"}


def same_module(a: str, b: str) -> bool:
    return a.replace("-", "_") == b.replace("-", "_")


# -- modules-load.d ------------------------------------------------------------


def parse_modules_load(text: str) -> list[str]:
    """The module names a modules-load.d file lists, in order."""
    names = []
    for line in lines(text):
        parts = fields(line)
        if parts and parts[0][0] not in "#;":
            names.append(parts[0])
    return names


def add_module(text: str, name: str) -> str:
    """text listing name, appended when it is not already there."""
    _check_name(name)
    if any(same_module(n, name) for n in parse_modules_load(text)):
        return text
    return append_line(text, name)


# -- modprobe.d ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Directive:
    command: str
    module: str
    args: tuple[str, ...]
    line: str


def parse_modprobe(text: str) -> list[Directive]:
    """Every `command module args...` line of a modprobe.d file."""
    found = []
    for line in lines(text):
        parts = fields(line)
        if len(parts) >= 2 and parts[0][0] != "#":
            found.append(Directive(parts[0], parts[1], tuple(parts[2:]), line.rstrip("\n")))
    return found


def module_options(text: str, name: str) -> list[str]:
    """Every parameter that `options NAME ...` lines give name, in order."""
    return [
        arg
        for d in parse_modprobe(text)
        if d.command == "options" and same_module(d.module, name)
        for arg in d.args
    ]


def set_options(text: str, name: str, params: Sequence[str]) -> str:
    """Make text give name exactly params in one `options` line (none: no line).

    The first `options NAME` line is replaced, later ones dropped; a line
    already holding params is kept as written.
    """
    _check_name(name)
    for p in params:
        check_param(name, p)
    line = " ".join(["options", name, *params])
    out: list[str] = []
    placed = False
    for old in lines(text):
        parts = fields(old)
        is_target = len(parts) >= 2 and parts[0] == "options" and same_module(parts[1], name)
        if not is_target:
            out.append(old)
        elif not placed and params:
            out.append(old if tuple(parts[2:]) == tuple(params) else line + ending(old))
            placed = True
    result = "".join(out)
    return result if placed or not params else append_line(result, line)


def install_blocks(text: str, name: str) -> list[str]:
    """Lines that stop name from ever loading (`install NAME /bin/false` and the like)."""
    return [
        d.line
        for d in parse_modprobe(text)
        if d.command == "install"
        and same_module(d.module, name)
        and d.args
        and d.args[0] in _BLOCKERS
    ]


def boot_blocks(text: str, name: str) -> list[str]:
    """Lines that stop systemd-modules-load loading name at boot.

    It loads through libkmod's kmod_module_probe_insert_module with
    KMOD_PROBE_APPLY_BLACKLIST (systemd src/shared/module-util.c), which returns early for a
    module that a `blacklist NAME` line names (the module itself, not its dependencies),
    and it runs install commands, so `install NAME /bin/false` (or /bin/true, which
    "succeeds" without loading) stops it too. `modprobe NAME` by hand applies the blacklist
    to aliases only (modprobe.d(5)), which is why a module can load now and not at boot.
    """
    return [
        d.line
        for d in parse_modprobe(text)
        if same_module(d.module, name)
        and (
            d.command == "blacklist"
            or (d.command == "install" and bool(d.args) and d.args[0] in _BLOCKERS)
        )
    ]


def unblock(text: str, name: str, marker: str) -> str:
    """text with each line boot_blocks finds for name commented out behind marker."""
    blocking = set(boot_blocks(text, name))
    out = []
    for line in lines(text):
        out.append(marker + line if line.rstrip("\n") in blocking else line)
    return "".join(out)


def _check_name(name: str) -> None:
    if not name or name[0] == "-" or any(c in name for c in " \t\n\r#;\0"):
        raise KitValueError(f"invalid module name: {name!r}")


def check_param(name: str, param: str) -> None:
    """Raise KitValueError unless param is one `key=value` word modprobe can take."""
    key, eq, _ = param.partition("=")
    if not key or not eq or any(c in param for c in " \t\n\r\0#"):
        raise KitValueError(f"invalid parameter for module {name}: {param!r} (want key=value)")
