"""Kernel modules and sysctls, live and at boot.

Runtime and persistent state are both set: a module is loaded now and listed
in a managed modules-load.d file; a sysctl is written with `sysctl -w` and in
one managed sysctl.d file. Path constants are keyword arguments so that tests
and unusual hosts can point them elsewhere.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kit.connection import Connection, quote
from kit.edits import decode, encode
from kit.edits import modules as modedit
from kit.edits import sysctl as sysedit
from kit.errors import KitError, KitValueError
from kit.runner import journal
from kit.runner.change import Change, combine
from kit.runner.files import mkdirp, stat_and_read, write_file
from kit.runner.validate import name as valid_name
from kit.runner.validate import path as valid_path

if TYPE_CHECKING:
    from kit.facts import Facts

# Search order of systemd-sysctl and `sysctl --system`; a name in an earlier
# directory hides the same name in a later one.
SYSCTL_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)
SYSCTL_CONF = "/etc/sysctl.conf"
MANAGED_SYSCTL = "/etc/sysctl.d/99-hostkit.conf"
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

_HEADER = "# Managed by hostkit: edits to lines it manages are replaced.\n"

# $@: directories (their *.conf files) and plain files; each file is printed
# as NUL, its path, NUL, its content. Config files hold no NUL bytes.
_CAT_CONFS = r"""for d in "$@"; do
  if [ -d "$d" ]; then
    for f in "$d"/*.conf; do
      if [ -f "$f" ]; then printf '\0%s\0' "$f"; cat -- "$f" 2>/dev/null; fi
    done
  elif [ -f "$d" ]; then printf '\0%s\0' "$d"; cat -- "$d" 2>/dev/null; fi
done; true"""


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
    if loaded or builtin:
        now = Change.none(
            f"module {name} {'built into the kernel' if builtin else 'already loaded'}",
            dry_run=dry_run,
        )
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
    steps = [_edit(conn, load_file, lambda t: modedit.add_module(t, name), dry_run)]
    if params:
        opts_file = posixpath.join(valid_path(modprobe_d), f"hostkit-{name}.conf")
        steps.append(
            _edit(conn, opts_file, lambda t: modedit.set_options(t, name, params), dry_run)
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
    for path, text in _read_confs(conn, list(modprobe_dirs)):
        found += [(path, line) for line in modedit.install_blocks(text, name)]
    if found and raise_error:
        path, line = found[0]
        raise KitError(f"module {name} is blocked by {line.strip()!r} in {path}")
    return found


# -- sysctl --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SysctlState:
    """A key's live value and the value boot would give it, with the file that gives it."""

    key: str
    live: str
    persistent: str | None
    persistent_file: str | None

    @property
    def consistent(self) -> bool:
        return self.persistent is not None and sysedit.same_value(self.live, self.persistent)


def get_sysctl(conn: Connection, key: str) -> str:
    """The live value, blanks collapsed (`32768\\t60999` reads `32768 60999`)."""
    _check_key(key)
    res = conn.read("sysctl -n %s", key)
    if not res.ok:
        raise KitError(f"cannot read sysctl {key}: {res.stderr.strip() or 'no such key'}")
    return sysedit.normalise_value(res.stdout.rstrip("\n"))


def sysctl_state(
    conn: Connection,
    key: str,
    *,
    dirs: Sequence[str] = SYSCTL_DIRS,
    conf: str | None = SYSCTL_CONF,
) -> SysctlState:
    """Live and boot-time value of key, to tell a check that the two disagree."""
    live = get_sysctl(conn, key)
    files = _read_confs(conn, [*dirs, *([conf] if conf else [])])
    value, source = sysctl_at_boot(files, key, dirs=dirs, conf=conf)
    return SysctlState(sysedit.normalise_key(key), live, value, source)


def sysctl_at_boot(
    files: Iterable[tuple[str, str]],
    key: str,
    *,
    dirs: Sequence[str] = SYSCTL_DIRS,
    conf: str | None = SYSCTL_CONF,
) -> tuple[str | None, str | None]:
    """(value, file) that boot gives key, from (path, text) pairs; others are ignored.

    Pure, so a check can answer from the files facts already carry.
    """
    wanted = sysedit.normalise_key(key)
    ours = [(p, t) for p, t in files if p == conf or posixpath.dirname(p) in dirs]
    # Earlier directories hide later ones whatever order the files came in.
    ours.sort(key=lambda f: dirs.index(posixpath.dirname(f[0])) if f[0] != conf else len(dirs))
    value = source = None
    for path, text in boot_order(ours, conf):
        found = sysedit.parse(text).get(wanted)
        if found is not None:
            value, source = found, path
    return value, source


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


def set_sysctl(
    conn: Connection,
    facts: Facts | None,
    key: str,
    value: str | int,
    *,
    persistent: bool = True,
    dry_run: bool = False,
    managed_file: str = MANAGED_SYSCTL,
    dirs: Sequence[str] = SYSCTL_DIRS,
    conf: str | None = SYSCTL_CONF,
) -> Change:
    """Set key live (sysctl -w) and, persistent, in the one managed sysctl.d file.

    The managed file's line for key is replaced, never duplicated. Other files
    that set key to another value are named in the summary: they may win at boot.
    """
    _check_key(key)
    want = sysedit.normalise_value(str(value))
    if isinstance(value, bool) or not want or any(c in want for c in "\n\r\0"):
        raise KitValueError(f"invalid value for sysctl {key}: {value!r}")
    live = get_sysctl(conn, key)
    steps = []
    # Compared as text: "0" is a value like any other, never "unset".
    if sysedit.same_value(live, want):
        steps.append(Change.none(f"{key} is {want}", dry_run=dry_run))
    else:
        with journal.live_step(conn, f"sysctl {key}={want} (was {live})", dry_run=dry_run):
            if not dry_run:
                conn.run("sysctl -q -w %s", f"{key}={want}", sudo=True).check()
        steps.append(Change.made(f"{key}: {live} -> {want} (live)", dry_run=dry_run))
    notes = ""
    if persistent:
        valid_path(managed_file)
        steps.append(
            _edit(conn, managed_file, lambda t: sysedit.set_key(t, key, want), dry_run, key)
        )
        notes = _conflicts(conn, key, want, managed_file, dirs, conf)
    done = combine(f"sysctl {key}={want}", steps, dry_run=dry_run)
    if not notes:
        return done
    return Change(done.changed, f"{done.summary}; {notes}", done.diff, dry_run)


def boot_order(files: list[tuple[str, str]], conf: str | None) -> list[tuple[str, str]]:
    """The files boot applies, in order: by file name, earlier directories hiding later
    ones of the same name; `conf` (/etc/sysctl.conf) last, as `sysctl --system` does."""
    chosen: dict[str, tuple[str, str]] = {}
    last = []
    for path, text in files:
        if conf is not None and path == conf:
            last.append((path, text))
            continue
        chosen.setdefault(posixpath.basename(path), (path, text))
    return [chosen[name] for name in sorted(chosen)] + last


# -- internals -----------------------------------------------------------------


def _conflicts(
    conn: Connection,
    key: str,
    want: str,
    managed_file: str,
    dirs: Sequence[str],
    conf: str | None,
) -> str:
    files = boot_order(_read_confs(conn, [*dirs, *([conf] if conf else [])]), conf)
    names = [path for path, _ in files]
    mine = names.index(managed_file) if managed_file in names else len(names)
    wanted = sysedit.normalise_key(key)
    notes = []
    for i, (path, text) in enumerate(files):
        other = sysedit.parse(text).get(wanted)
        if path == managed_file or other is None or sysedit.same_value(other, want):
            continue
        wins = " and wins at boot" if i > mine else ""
        notes.append(f"{path} sets {other}{wins}")
    return "; ".join(notes)


def _edit(
    conn: Connection,
    path: str,
    edit: Callable[[str], str],
    dry_run: bool,
    what: str | None = None,
) -> Change:
    """Apply a text edit to a root-owned file; a new file starts with the header."""
    old, _ = stat_and_read(conn, path, sudo=True)
    before = decode(old) if old is not None else _HEADER
    after = edit(before)
    if old is not None and after == before:
        done = f"already {'sets ' + what if what else 'up to date'}"
        return Change.none(f"{path} {done}", dry_run=dry_run)
    if old is not None:
        return write_file(conn, path, encode(after), sudo=True, dry_run=dry_run)
    # Some hosts ship without /etc/modprobe.d or /etc/sysctl.d.
    parent = mkdirp(conn, posixpath.dirname(path), mode="0755", sudo=True, dry_run=dry_run)
    written = write_file(conn, path, after, mode="0644", sudo=True, dry_run=dry_run)
    return combine(path, [parent, written], dry_run=dry_run)


def _read_confs(conn: Connection, paths: list[str]) -> list[tuple[str, str]]:
    if not paths:
        return []
    for p in paths:
        valid_path(p)
    out = conn.read("sh -c %s sh" + " %s" * len(paths), _CAT_CONFS, *paths).check()
    parts = out.stdout_bytes.split(b"\0")[1:]
    return [
        (parts[i].decode(errors="replace"), parts[i + 1].decode(errors="replace"))
        for i in range(0, len(parts) - 1, 2)
    ]


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


def _check_key(key: str) -> None:
    valid_name("sysctl key", key)
    if "*" in key:
        raise KitValueError(f"invalid sysctl key (a pattern, not a key): {key!r}")
