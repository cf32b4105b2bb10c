"""Kernel modules: loaded now (modprobe) and at boot (modules-load.d, options in
modprobe.d), what stops one loading (an `install NAME /bin/false` line), and what stops
systemd-modules-load loading it at boot (also a `blacklist NAME` line).
"""

from __future__ import annotations

import posixpath
from collections.abc import Container, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from kit.connection import Connection, quote
from kit.edits import modules as modedit
from kit.errors import FixRefused, KitError, KitValueError
from kit.runner import journal
from kit.runner.change import Change, combine
from kit.runner.kernel import confs
from kit.runner.kernel.kconfig import read_kernel_config
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
    loaded, builtin = _module_state(conn, name, proc_modules, modules_builtin)
    if builtin:
        # Present from the first instant of every boot: nothing to load, nothing to list.
        return Change.none(f"module {name} built into the kernel", dry_run=dry_run)
    unblocked = None
    if persistent:
        # Before modprobe: an install line it comments out would stop that too. Refused,
        # naming the file and line, before anything is written.
        unblocked = unblock_at_boot(
            conn, name, dry_run=dry_run, modprobe_dirs=modprobe_dirs, modprobe_d=modprobe_d
        )
    else:
        blocked_by(conn, name, modprobe_dirs=modprobe_dirs, raise_error=True)
    if loaded:
        now = Change.none(f"module {name} already loaded", dry_run=dry_run)
    else:
        if dry_run:
            _loadable(conn, name)
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
    steps = [step for step in (unblocked, now, boot) if step is not None]
    return combine(f"module {name}", steps, dry_run=dry_run)


def _loadable(conn: Connection, name: str) -> None:
    """Planning: raise what `modprobe` would meet, found without loading (`modprobe -n`
    resolves the module and its dependencies): a container has no modules of its own, and
    --fix fails there, so the plan must not promise it."""
    res = conn.read("modprobe -n -- %s", name, sudo=True)
    if not res.ok:
        why = (res.stderr.strip().splitlines() or [f"modprobe -n exited {res.rc}"])[-1]
        raise KitError(f"module {name} cannot be loaded here ({why}), so modprobe would fail")


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


UNBLOCK_MARKER = "# hostkit: so that {name} loads at boot: "


def modprobe_in_effect(
    files: Iterable[tuple[str, str]], dirs: Sequence[str] = MODPROBE_DIRS
) -> list[tuple[str, str]]:
    """The modprobe.d files libkmod reads, from (path, text) pairs: the `*.conf` files of
    dirs, a name in an earlier directory hiding the same name in a later one (libkmod
    libkmod-config.c conf_files_list), in file-name order."""
    chosen: dict[str, tuple[str, str]] = {}
    found = [(p, t) for p, t in files if p.endswith(".conf") and posixpath.dirname(p) in dirs]
    for path, text in sorted(found, key=lambda f: dirs.index(posixpath.dirname(f[0]))):
        chosen.setdefault(posixpath.basename(path), (path, text))
    return [chosen[n] for n in sorted(chosen)]


def boot_blocks(
    files: Iterable[tuple[str, str]], name: str, dirs: Sequence[str] = MODPROBE_DIRS
) -> list[tuple[str, str]]:
    """(file, line) of each line that stops systemd-modules-load loading name at boot
    (kit.edits.modules.boot_blocks), over the files libkmod reads."""
    return [
        (path, line)
        for path, text in modprobe_in_effect(files, dirs)
        for line in modedit.boot_blocks(text, name)
    ]


def unblock_at_boot(
    conn: Connection,
    name: str,
    *,
    dry_run: bool = False,
    modprobe_dirs: Sequence[str] = MODPROBE_DIRS,
    modprobe_d: str = MODPROBE_D,
) -> Change:
    """Comment out, behind UNBLOCK_MARKER, each line of modprobe_d's files that stops
    systemd-modules-load loading name at boot (saved and journaled as every file write).

    A line in another directory (a package's file in /usr/lib/modprobe.d, /run's) or in a
    file that is a link is the operator's: FixRefused names the file and line, before
    anything is written.
    """
    valid_name("module name", name)
    files, links = confs.read_tree(conn, list(modprobe_dirs))
    found = boot_blocks(files, name, modprobe_dirs)
    own = posixpath.normpath(valid_path(modprobe_d))
    for path, line in found:
        if posixpath.dirname(path) != own or path in links:
            where = "is a link" if path in links else f"is not in {own}"
            raise FixRefused(
                f"{path}: {line.strip()!r} stops systemd-modules-load loading {name} at boot, "
                f"and the file {where}: remove the line by hand, or hide the file with one "
                f"of the same name in {own}"
            )
    if not found:
        return Change.none(f"module {name}: no modprobe.d line stops it at boot", dry_run=dry_run)
    marker = UNBLOCK_MARKER.format(name=name)
    steps = [
        confs.edit(conn, path, lambda t: modedit.unblock(t, name, marker), dry_run)
        for path in dict.fromkeys(path for path, _ in found)
    ]
    return combine(f"module {name} no longer blocked at boot", steps, dry_run=dry_run)


# The kernel config option that builds a module (its Makefile's obj-$(CONFIG_X) line:
# net/bridge, fs/overlayfs, net/netfilter/ipvs, net/netfilter), and a sysctl key only the
# module registers: either says a module is built in when modules.builtin is missing.
MODULE_CONFIG: Mapping[str, str] = {
    "br_netfilter": "BRIDGE_NETFILTER",
    "overlay": "OVERLAY_FS",
    "ip_vs": "IP_VS",
    "ip_vs_rr": "IP_VS_RR",
    "ip_vs_wrr": "IP_VS_WRR",
    "ip_vs_sh": "IP_VS_SH",
    "nf_conntrack": "NF_CONNTRACK",
}
MODULE_SYSCTLS: Mapping[str, str] = {
    "br_netfilter": "net.bridge.bridge-nf-call-iptables",
    "ip_vs": "net.ipv4.vs.amemthresh",
    "nf_conntrack": "net.netfilter.nf_conntrack_max",
}


def builtin_evidence(
    name: str,
    *,
    loaded: bool,
    proc_modules_readable: bool,
    sys_modules: Container[str],
    kconfig: Mapping[str, str],
    sysctl_keys: Container[str],
) -> str | None:
    """What shows name built into the running kernel where modules.builtin is missing, or
    None: CONFIG_X=y; else, when /proc/modules reads and does not list it, /sys/module/NAME
    (a built-in module with parameters has one) or a sysctl key only the module registers.
    Without a readable /proc/modules those say "present", not "built in"."""
    wanted = name.replace("-", "_")
    option = MODULE_CONFIG.get(wanted)
    if option is not None and kconfig.get(f"CONFIG_{option}") == "y":
        return f"CONFIG_{option}=y"
    if loaded or not proc_modules_readable:
        return None
    if wanted in sys_modules:
        return f"/sys/module/{wanted}"
    key = MODULE_SYSCTLS.get(wanted)
    if key is not None and key in sysctl_keys:
        return f"its sysctl {key}"
    return None


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
    wanted = name.replace("-", "_")
    key = MODULE_SYSCTLS.get(wanted)
    # Each file, or "@absent" where it does not read; then what shows a built-in module
    # where modules.builtin is missing (builtin_evidence).
    script = (
        f"p={quote(valid_path(proc_modules))}; b={builtin_path}; "
        'for f in "$p" "$b"; do '
        'if [ -r "$f" ]; then cat -- "$f"; else printf @absent; fi; printf \'\\0\'; done; '
        f"[ -d {quote('/sys/module/' + wanted)} ] && printf sys; printf '\\0'; "
        + (
            f"[ -e {quote('/proc/sys/' + key.replace('.', '/'))} ] && printf sysctl; "
            if key
            else ""
        )
        + "true"
    )
    loaded_text, builtin_text, sys_module, sysctl = (
        [*conn.read(script).check().stdout.split("\0"), "", "", "", ""]
    )[:4]
    readable = loaded_text != "@absent"
    loaded = readable and wanted in {n.replace("-", "_") for n in parse_proc_modules(loaded_text)}
    if builtin_text != "@absent":
        return loaded, wanted in parse_modules_builtin(builtin_text)
    kconfig: dict[str, str] = {}
    option = MODULE_CONFIG.get(wanted)
    if option is not None and not loaded:
        release = conn.read("uname -r").check().stdout.strip()
        kconfig = read_kernel_config(conn, release, [option])[1]
    evidence = builtin_evidence(
        wanted,
        loaded=loaded,
        proc_modules_readable=readable,
        sys_modules={wanted} if sys_module == "sys" else set(),
        kconfig=kconfig,
        sysctl_keys={key} if key and sysctl == "sysctl" else set(),
    )
    return loaded, evidence is not None


def _check_module(name: str, params: Sequence[str]) -> None:
    valid_name("module name", name)
    if isinstance(params, str):
        raise KitValueError(f"params for module {name} must be a sequence of key=value strings")
    for p in params:
        modedit.check_param(name, p)
