"""Kernel modules: loaded now (modprobe) and at boot (modules-load.d, options in
modprobe.d), and what stops one loading (an `install NAME /bin/false` line).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from kit.connection import Connection, quote
from kit.edits import modules as modedit
from kit.errors import KitError, KitValueError
from kit.runner import journal
from kit.runner.change import Change, combine
from kit.runner.kernel import confs
from kit.runner.validate import name as valid_name
from kit.runner.validate import path as valid_path

if TYPE_CHECKING:
    from kit.facts import Facts


MODPROBE_DIRS = (
    "/etc/modprobe.d",
    "/run/modprobe.d",
    "/usr/local/lib/modprobe.d",
    "/usr/lib/modprobe.d",
    "/lib/modprobe.d",
)
MODULES_LOAD_D = "/etc/modules-load.d"
MODPROBE_D = "/etc/modprobe.d"
PROC_MODULES = "/proc/modules"

# -- modules -------------------------------------------------------------------


def parse_proc_modules(text: str) -> set[str]:
    """Module names in /proc/modules (first field of each line)."""
    return {line.split(" ", 1)[0] for line in text.splitlines() if line.strip()}


def parse_modules_builtin(text: str) -> set[str]:
    """Module names in modules.builtin (`kernel/net/bridge/br_netfilter.ko`)."""
    names = set()
    for line in text.splitlines():
        base = posixpath.basename(line.strip())
        if base.endswith(".ko"):
            names.add(base[:-3].replace("-", "_"))
    return names


def is_module_loaded(
    conn: Connection,
    name: str,
    *,
    proc_modules: str = PROC_MODULES,
    modules_builtin: str | None = None,
) -> bool:
    """Whether name is loaded now or built into the running kernel.

    modules_builtin defaults to /lib/modules/$(uname -r)/modules.builtin.
    A host without /proc/modules (no module support) has none loaded.
    """
    loaded, builtin = _module_state(conn, name, proc_modules, modules_builtin)
    return loaded or builtin


def load_module(
    conn: Connection,
    facts: Facts | None,
    name: str,
    params: Sequence[str] = (),
    *,
    persistent: bool = False,
    dry_run: bool = False,
    proc_modules: str = PROC_MODULES,
    modules_builtin: str | None = None,
    modprobe_dirs: Sequence[str] = MODPROBE_DIRS,
    modules_load_d: str = MODULES_LOAD_D,
    modprobe_d: str = MODPROBE_D,
) -> Change:
    """Load name now (modprobe with params); persistent also configures it for boot.

    A module already loaded is left as it is, whatever parameters it was
    loaded with: changing them needs an unload, which this never does.
    """
    _check_module(name, params)
    blocked_by(conn, name, modprobe_dirs=modprobe_dirs, raise_error=True)
    loaded, builtin = _module_state(conn, name, proc_modules, modules_builtin)
    if builtin:
        # Present from the first instant of every boot: nothing to load, nothing to list.
        return Change.none(f"module {name} built into the kernel", dry_run=dry_run)
    if loaded:
        now = Change.none(f"module {name} already loaded", dry_run=dry_run)
    else:
        with journal.live_step(conn, f"modprobe {name}", dry_run=dry_run):
            if not dry_run:
                cmd = "modprobe --" + " %s" * (1 + len(params))
                conn.run(cmd, name, *params, sudo=True).check()
        now = Change.made(f"module {name} loaded", dry_run=dry_run)
    if not persistent:
        return now
    boot = configure_module_on_boot(
        conn,
        facts,
        name,
        params,
        dry_run=dry_run,
        modprobe_dirs=(),
        modules_load_d=modules_load_d,
        modprobe_d=modprobe_d,
    )
    return combine(f"module {name}", [now, boot], dry_run=dry_run)


def unload_module(
    conn: Connection,
    facts: Facts | None,
    name: str,
    *,
    dry_run: bool = False,
    proc_modules: str = PROC_MODULES,
    modules_builtin: str | None = None,
) -> Change:
    """Unload name now (modprobe -r). Boot configuration is left alone."""
    _check_module(name, ())
    loaded, builtin = _module_state(conn, name, proc_modules, modules_builtin)
    if builtin and not loaded:
        raise KitError(f"module {name} is built into the kernel and cannot be unloaded")
    if not loaded:
        return Change.none(f"module {name} not loaded", dry_run=dry_run)
    if not dry_run:
        conn.run("modprobe -r -- %s", name, sudo=True).check()
    return Change.made(f"module {name} unloaded", dry_run=dry_run)


def configure_module_on_boot(
    conn: Connection,
    facts: Facts | None,
    name: str,
    params: Sequence[str] = (),
    *,
    dry_run: bool = False,
    modprobe_dirs: Sequence[str] = MODPROBE_DIRS,
    modules_load_d: str = MODULES_LOAD_D,
    modprobe_d: str = MODPROBE_D,
) -> Change:
    """List name in modules-load.d/hostkit-NAME.conf; params go to modprobe.d/hostkit-NAME.conf.

    Without params, an options file already there is left alone.
    """
    _check_module(name, params)
    blocked_by(conn, name, modprobe_dirs=modprobe_dirs, raise_error=True)
    load_file = posixpath.join(valid_path(modules_load_d), f"hostkit-{name}.conf")
    steps = [confs.edit(conn, load_file, lambda t: modedit.add_module(t, name), dry_run)]
    if params:
        opts_file = posixpath.join(valid_path(modprobe_d), f"hostkit-{name}.conf")
        steps.append(
            confs.edit(conn, opts_file, lambda t: modedit.set_options(t, name, params), dry_run)
        )
    return combine(f"module {name} at boot", steps, dry_run=dry_run)


def blocked_by(
    conn: Connection,
    name: str,
    *,
    modprobe_dirs: Sequence[str] = MODPROBE_DIRS,
    raise_error: bool = False,
) -> list[tuple[str, str]]:
    """(file, line) of every `install NAME /bin/false`-like line that stops name loading.

    raise_error turns the first one into a KitError naming the file.
    """
    found = []
    for path, text in confs.read_confs(conn, list(modprobe_dirs)):
        found += [(path, line) for line in modedit.install_blocks(text, name)]
    if found and raise_error:
        path, line = found[0]
        raise KitError(f"module {name} is blocked by {line.strip()!r} in {path}")
    return found


MODULES_LOAD_DIRS = (
    "/etc/modules-load.d",
    "/run/modules-load.d",
    "/usr/local/lib/modules-load.d",
    "/usr/lib/modules-load.d",
    "/lib/modules-load.d",
)


def modules_at_boot(files: Iterable[tuple[str, str]]) -> set[str]:
    """Modules that systemd-modules-load (or /etc/modules) loads at boot, from (path, text)."""
    names: set[str] = set()
    for path, text in files:
        if path == "/etc/modules" or posixpath.dirname(path) in MODULES_LOAD_DIRS:
            names.update(n.replace("-", "_") for n in modedit.parse_modules_load(text))
    return names


def _module_state(
    conn: Connection, name: str, proc_modules: str, modules_builtin: str | None
) -> tuple[bool, bool]:
    valid_name("module name", name)
    if modules_builtin is None:
        builtin_path = '/lib/modules/"$(uname -r)"/modules.builtin'
    else:
        builtin_path = quote(valid_path(modules_builtin))
    script = (
        f"cat -- {quote(valid_path(proc_modules))} 2>/dev/null; printf '\\0'; "
        f"cat -- {builtin_path} 2>/dev/null; true"
    )
    loaded_text, _, builtin_text = conn.read(script).check().stdout.partition("\0")
    wanted = name.replace("-", "_")
    loaded = wanted in {n.replace("-", "_") for n in parse_proc_modules(loaded_text)}
    return loaded, wanted in parse_modules_builtin(builtin_text)


def _check_module(name: str, params: Sequence[str]) -> None:
    valid_name("module name", name)
    if isinstance(params, str):
        raise KitValueError(f"params for module {name} must be a sequence of key=value strings")
    for p in params:
        modedit.check_param(name, p)
