"""Kernel modules and sysctls, live and at boot.

Runtime and persistent state are both set: a module is loaded now and listed
in a managed modules-load.d file; a sysctl is written with `sysctl -w` and in
one managed sysctl.d file. Path constants are keyword arguments so that tests
and unusual hosts can point them elsewhere.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kit.connection import Connection, quote
from kit.edits import decode, encode, grub, lines
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
# as NUL, its path, NUL, its content; a link in a directory also as NUL,
# "@link:" and its path, NUL, its resolved target. Config files hold no NUL bytes.
_CAT_CONFS = r"""for d in "$@"; do
  if [ -d "$d" ]; then
    for f in "$d"/*.conf; do
      if [ -L "$f" ]; then printf '\0@link:%s\0%s' "$f" "$(readlink -f -- "$f")"; fi
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
) -> SysctlState:
    """Live and boot-time value of key, to tell a check that the two disagree."""
    live = get_sysctl(conn, key)
    files, links = _read_tree(conn, list(dirs))
    value, source = sysctl_at_boot(files, key, links=links, dirs=dirs)
    return SysctlState(sysedit.normalise_key(key), live, value, source)


def boot_order(
    files: Iterable[tuple[str, str]],
    links: Mapping[str, str] | None = None,
    *,
    dirs: Sequence[str] = SYSCTL_DIRS,
) -> list[tuple[str, str]]:
    """The files systemd-sysctl applies, in the order it applies them (sysctl.d(5)).

    It reads `*.conf` from dirs only: a name in an earlier directory hides the same name
    in a later one, a link to /dev/null masks it, and the survivors apply in file-name
    order. /etc/sysctl.conf counts only through a link such as 99-sysctl.conf, under
    the link's name. Other (path, text) pairs are ignored.
    """
    links = links or {}
    texts = dict(files)
    names = {p for p in (*texts, *links) if p.endswith(".conf") and posixpath.dirname(p) in dirs}
    chosen: dict[str, str] = {}
    for path in sorted(names, key=lambda p: (dirs.index(posixpath.dirname(p)), p)):
        chosen.setdefault(posixpath.basename(path), path)
    order = []
    for name in sorted(chosen):
        path = chosen[name]
        if links.get(path) == "/dev/null" or path not in texts:
            continue
        order.append((path, texts[path]))
    return order


def sysctl_at_boot(
    files: Iterable[tuple[str, str]],
    key: str,
    *,
    links: Mapping[str, str] | None = None,
    dirs: Sequence[str] = SYSCTL_DIRS,
) -> tuple[str | None, str | None]:
    """(value, file) that boot gives key, from (path, text) pairs and the links among them.

    Pure, so a check can answer from the files facts already carry. The last file in
    boot order that sets key wins: systemd-sysctl overwrites an earlier assignment.
    """
    wanted = sysedit.normalise_key(key)
    value = source = None
    for path, text in boot_order(files, links, dirs=dirs):
        found = sysedit.parse(text).get(wanted)
        if found is not None:
            value, source = found, path
    return value, source


AT_LEAST = ">="


def wanted_value(value: str | int) -> tuple[str, str]:
    """A profile's wanted value as (comparison, value): "=" for an exact value, ">=" for a
    floor such as fs.inotify.max_user_watches, where a higher value is just as good."""
    text = sysedit.normalise_value(str(value))
    if isinstance(value, bool) or not text or any(c in text for c in "\n\r\0"):
        raise KitValueError(f"invalid sysctl value: {value!r}")
    if text.startswith(AT_LEAST):
        floor = text[len(AT_LEAST) :].strip()
        if not floor.isascii() or not floor.isdigit():
            raise KitValueError(f"a sysctl floor must be a whole number, not {floor!r}")
        return AT_LEAST, floor
    return "=", text


def satisfies(actual: str | None, value: str | int) -> bool:
    """Whether a sysctl's actual value meets the wanted one (exact, or at least a floor)."""
    if actual is None:
        return False
    op, want = wanted_value(value)
    if op == "=":
        return sysedit.same_value(actual, want)
    got = sysedit.normalise_value(actual)
    return got.isascii() and got.isdigit() and int(got) >= int(want)


def describe_wanted(value: str | int) -> str:
    op, want = wanted_value(value)
    return want if op == "=" else f"at least {want}"


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
) -> Change:
    """Set key live (sysctl -w) and, persistent, in the one managed sysctl.d file, so that
    it wins at boot.

    value is exact ("1") or a floor (">=524288"): a floor never lowers a higher value,
    live or at boot. The managed file's line for key is replaced, never duplicated. A
    file that boot applies after the managed one and that sets key against the wanted
    value has that line commented out behind a marker; a vendor file outside the first
    directory is overridden by a same-named copy there with the line commented.
    """
    _check_key(key)
    if isinstance(value, bool):
        raise KitValueError(f"invalid value for sysctl {key}: {value!r}")
    try:
        op, want = wanted_value(value)
    except KitValueError:
        raise KitValueError(f"invalid value for sysctl {key}: {value!r}") from None
    live = get_sysctl(conn, key)
    # A floor already met persists the live value, so boot never lowers it.
    persist = live if op == AT_LEAST and satisfies(live, value) else want
    boot_edits: list[tuple[str, str]] = []
    if persistent:
        valid_path(managed_file)
        # Planned before anything is written: a refusal leaves the host as it was.
        boot_edits = _win_at_boot(conn, key, value, persist, managed_file, dirs)
    steps = []
    # Compared as text: "0" is a value like any other, never "unset".
    if satisfies(live, value):
        steps.append(Change.none(f"{key} is {live}", dry_run=dry_run))
    else:
        with journal.live_step(conn, f"sysctl {key}={want} (was {live})", dry_run=dry_run):
            if not dry_run:
                conn.run("sysctl -q -w %s", f"{key}={want}", sudo=True).check()
        steps.append(Change.made(f"{key}: {live} -> {want} (live)", dry_run=dry_run))
    if persistent:
        steps.append(
            _edit(conn, managed_file, lambda t: sysedit.set_key(t, key, persist), dry_run, key)
        )
        steps += [_edit(conn, p, lambda _t, e=text: e, dry_run) for p, text in boot_edits]
    return combine(f"sysctl {key}={describe_wanted(value)}", steps, dry_run=dry_run)


MARKER = "# hostkit: overridden by {managed}: "


def _win_at_boot(
    conn: Connection,
    key: str,
    value: str | int,
    persist: str,
    managed_file: str,
    dirs: Sequence[str],
) -> list[tuple[str, str]]:
    """(path, new text) for every file boot applies after managed_file that sets key
    against the wanted value: its lines for key commented out behind the marker."""
    files, links = _read_tree(conn, list(dirs))
    texts = dict(files)
    # In a dry run the managed file may not exist yet: boot order is what it would be.
    texts[managed_file] = sysedit.set_key(texts.get(managed_file, _HEADER), key, persist)
    order = boot_order(texts.items(), links, dirs=dirs)
    names = [p for p, _ in order]
    if managed_file not in names:
        raise KitError(
            f"{managed_file} is masked or hidden, so boot never reads it: "
            f"{key} cannot be made to persist"
        )
    wanted = sysedit.normalise_key(key)
    marker = MARKER.format(managed=managed_file)
    first = posixpath.normpath(dirs[0])
    edits: list[tuple[str, str]] = []
    # Every file is judged before the first write, so a refusal leaves all of them as
    # they were.
    for path, text in order[names.index(managed_file) + 1 :]:
        found = sysedit.parse(text).get(wanted)
        if found is None or satisfies(found, value):
            continue
        edited = _comment_key(text, wanted, value, marker)
        if posixpath.dirname(path) != first:
            # A vendor file is its package's; a same-named file in the first directory
            # hides it (sysctl.d(5)), so the override lives there.
            edits.append((posixpath.join(first, posixpath.basename(path)), edited))
            continue
        target = links.get(path)
        if target is not None and not target.startswith(posixpath.dirname(first) + "/"):
            # Writing through this link would edit a file outside the configuration tree.
            raise KitError(
                f"{path} links to {target} and sets {key} to {found} after {managed_file}: "
                "comment that line out by hand"
            )
        edits.append((path, edited))
    return edits


def _comment_key(text: str, wanted: str, value: str | int, marker: str) -> str:
    out = []
    for line in lines(text):
        kv = sysedit.parse_line(line)
        if kv is not None and kv[0] == wanted and not satisfies(kv[1], value):
            out.append(marker + line)
        else:
            out.append(line)
    return "".join(out)


# -- internals -----------------------------------------------------------------


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
    return _read_tree(conn, paths)[0]


def _read_tree(conn: Connection, paths: list[str]) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """((path, text) of each readable file, {link: resolved target}) under paths."""
    if not paths:
        return [], {}
    for p in paths:
        valid_path(p)
    out = conn.read("sh -c %s sh" + " %s" * len(paths), _CAT_CONFS, *paths).check()
    parts = out.stdout_bytes.split(b"\0")[1:]
    files: list[tuple[str, str]] = []
    links: dict[str, str] = {}
    for i in range(0, len(parts) - 1, 2):
        head, body = parts[i].decode(errors="replace"), parts[i + 1].decode(errors="replace")
        if head.startswith("@link:"):
            links[head[len("@link:") :]] = body
        else:
            files.append((head, body))
    return files, links


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


# -- list-valued sysctls -------------------------------------------------------

# A profile value "includes 30000-32767" asks that a list of port ranges such as
# net.ipv4.ip_local_reserved_ports holds the range, whatever else it holds.
INCLUDES = "includes "


def parse_port_ranges(text: str) -> list[tuple[int, int]]:
    """Port ranges of a list such as `30000-32767,40000` (the kernel prints commas; blanks
    are allowed too), merged and sorted; an empty value is an empty list."""
    ranges = []
    for part in text.replace(",", " ").split():
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise KitValueError(f"invalid port range {part!r} (want N or N-M)")
        first, last = int(low), int(high or low)
        if first > last or last > 65535:
            raise KitValueError(f"invalid port range {part!r}")
        ranges.append((first, last))
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def format_port_ranges(ranges: Iterable[tuple[int, int]]) -> str:
    return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges)


def _included(value: str | int) -> list[tuple[int, int]] | None:
    text = str(value).strip()
    return parse_port_ranges(text[len(INCLUDES) :]) if text.startswith(INCLUDES) else None


def meets(actual: str | None, value: str | int) -> bool:
    """satisfies(), and for "includes R" whether actual's ranges cover every port of R."""
    wanted = _included(value)
    if wanted is None:
        return satisfies(actual, value)
    if actual is None:
        return False
    try:
        have = parse_port_ranges(actual)
    except KitValueError:
        return False
    return all(any(a <= first and last <= b for a, b in have) for first, last in wanted)


def describe_meets(value: str | int) -> str:
    wanted = _included(value)
    if wanted is None:
        return describe_wanted(value)
    return f"a list including {format_port_ranges(wanted)}"


def set_sysctl_including(
    conn: Connection,
    facts: Facts | None,
    key: str,
    value: str | int,
    *,
    dry_run: bool = False,
    managed_file: str = MANAGED_SYSCTL,
    dirs: Sequence[str] = SYSCTL_DIRS,
) -> Change:
    """set_sysctl(), where "includes R" sets the union of the live ranges and R, so that
    ports reserved by someone else stay reserved, live and at boot."""
    wanted = _included(value)
    if wanted is None:
        return set_sysctl(
            conn, facts, key, value, dry_run=dry_run, managed_file=managed_file, dirs=dirs
        )
    live = get_sysctl(conn, key)
    union = parse_port_ranges(live) + wanted
    exact = format_port_ranges(parse_port_ranges(format_port_ranges(union)))
    return set_sysctl(
        conn, facts, key, exact, dry_run=dry_run, managed_file=managed_file, dirs=dirs
    )


# -- kernel build configuration --------------------------------------------------------


def kernel_config_paths(release: str) -> tuple[str, ...]:
    """Where kubeadm's kernel validator looks for the running kernel's config, in its order
    (system-validators kernel_validator.go getKernelConfigReader)."""
    return (
        "/proc/config.gz",
        f"/boot/config-{release}",
        f"/usr/src/linux-{release}/.config",
        "/usr/src/linux/.config",
        f"/usr/lib/modules/{release}/config",
        f"/usr/lib/ostree-boot/config-{release}",
        f"/usr/lib/kernel/config-{release}",
        f"/usr/src/linux-headers-{release}/.config",
        f"/lib/modules/{release}/build/.config",
    )


_KCONFIG = re.compile(r"^(CONFIG_[A-Z0-9_]+)=([myn])")


def parse_kernel_config(text: str) -> dict[str, str]:
    """{CONFIG_NAME: "y"|"m"|"n"} as the validator reads a config: `^CONFIG_[A-Z0-9_]+=[myn]`
    lines only, so `# CONFIG_X is not set` and string or number options are absent."""
    found = {}
    for line in text.splitlines():
        match = _KCONFIG.match(line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    return found


# $1: the option names' pattern; the rest: the paths in order. The first path that exists
# is the config, whatever it holds, as the validator takes it.
_READ_KCONFIG = r"""pattern=$1; shift
for p in "$@"; do
  if [ -e "$p" ]; then
    printf '%s\n' "$p"
    case $p in *.gz) gzip -dc -- "$p" ;; *) cat -- "$p" ;; esac | grep -E "$pattern"
    exit 0
  fi
done
exit 0"""


def read_kernel_config(
    conn: Connection, release: str, names: Iterable[str]
) -> tuple[str | None, dict[str, str]]:
    """(the config file read, its values of the named options) for the running kernel;
    (None, {}) when no config exists where the validator looks.

    Only the named options cross the connection: a distribution's config is some 250 kB.
    """
    wanted = [n.removeprefix("CONFIG_") for n in names]
    for name in wanted:
        if not re.fullmatch(r"[A-Z0-9_]+", name):
            raise KitValueError(f"invalid kernel config option: {name!r}")
    if not re.fullmatch(r"[A-Za-z0-9._+~][A-Za-z0-9._+~-]*", release):
        raise KitValueError(f"invalid kernel release: {release!r}")
    pattern = "^[[:space:]]*CONFIG_(" + "|".join(wanted) + ")="
    paths = kernel_config_paths(release)
    out = conn.read("sh -c %s sh" + " %s" * (1 + len(paths)), _READ_KCONFIG, pattern, *paths)
    first, _, rest = out.check().stdout.partition("\n")
    if not first:
        return None, {}
    return first, parse_kernel_config(rest)


# -- cgroup controllers and the kernel command line of the next boot --------------------

GRUB_DEFAULT = "/etc/default/grub"
GRUB_DROPINS = "/etc/default/grub.d"
GRUB_MANAGED = "/etc/default/grub.d/99-hostkit.cfg"
GRUB_CFGS = ("/boot/grub/grub.cfg", "/boot/grub2/grub.cfg")

# Sections: the cgroup filesystem type, the v2 root's controllers, whether a v2 child
# has cgroup.freeze (the freezer, which cgroup.controllers never lists), /proc/cgroups,
# /proc/cmdline, grubby's default entry, and the first generated grub.cfg.
_CGROUP_STATE = r"""s() { printf '\n@@%s\n' "$1"; }
s fs; stat -fc %T /sys/fs/cgroup 2>/dev/null
s controllers; cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null
s freezer; for f in /sys/fs/cgroup/*/cgroup.freeze; do [ -e "$f" ] && { echo yes; break; }; done
s proc-cgroups; cat /proc/cgroups 2>/dev/null
s cmdline; cat /proc/cmdline 2>/dev/null
s grubby; command -v grubby >/dev/null 2>&1 && grubby --info=DEFAULT 2>/dev/null
for c in "$@"; do
  if [ -f "$c" ]; then s "grub-cfg:$c"; cat -- "$c"; break; fi
done
true"""


@dataclass(frozen=True, slots=True)
class CgroupState:
    """The controllers the running kernel offers and the command lines around them."""

    version: int | None
    controllers: frozenset[str]
    # Where the live list comes from, for messages.
    source: str
    cmdline: tuple[str, ...]
    # The next boot's command line (None: unknown) and where it was read.
    next_boot: tuple[str, ...] | None
    next_boot_source: str | None


def parse_cgroup_state(text: str) -> CgroupState:
    sections: dict[str, str] = {}
    name = None
    for line in text.split("\n"):
        if line.startswith("@@"):
            name = line[2:]
            sections[name] = ""
        elif name is not None:
            sections[name] += line + "\n"
    fs = sections.get("fs", "").strip()
    version = 2 if fs == "cgroup2fs" else 1 if fs == "tmpfs" else None
    if version == 2:
        # system-validators getCgroupV2Subsystems: devices is always there (kernel 4.15+).
        found = {"devices", *sections.get("controllers", "").split()}
        if sections.get("freezer", "").strip():
            found.add("freezer")
        source = "/sys/fs/cgroup/cgroup.controllers"
    else:
        found = set()
        for row in sections.get("proc-cgroups", "").splitlines():
            parts = row.split()
            if parts and not parts[0].startswith("#") and len(parts) >= 4 and parts[3] != "0":
                found.add(parts[0])
        source = "/proc/cgroups"
    next_boot: list[str] | None = None
    next_source = None
    if sections.get("grubby", "").strip():
        next_boot, next_source = grub.grubby_args(sections["grubby"]), "grubby --info=DEFAULT"
    if next_boot is None:
        for key, body in sections.items():
            if key.startswith("grub-cfg:"):
                next_boot, next_source = grub.grub_cfg_args(body), key[len("grub-cfg:") :]
    return CgroupState(
        version,
        frozenset(found),
        source,
        tuple(sections.get("cmdline", "").split()),
        tuple(next_boot) if next_boot is not None else None,
        next_source if next_boot is not None else None,
    )


def read_cgroup_state(conn: Connection, *, grub_cfgs: Sequence[str] = GRUB_CFGS) -> CgroupState:
    """The live controllers, /proc/cmdline and the next boot's command line (root reads
    grub.cfg, which is 0400 on some hosts, and runs grubby)."""
    for path in grub_cfgs:
        valid_path(path)
    out = conn.read("sh -c %s sh" + " %s" * len(grub_cfgs), _CGROUP_STATE, *grub_cfgs, sudo=True)
    return parse_cgroup_state(out.check().stdout)


# $1: /etc/default/grub, $2: the drop-in directory. Each file as NUL, path, NUL, text.
_CAT_GRUB_DEFAULTS = r"""[ -f "$1" ] && { printf '\0%s\0' "$1"; cat -- "$1"; }
for f in "$2"/*.cfg; do [ -f "$f" ] && { printf '\0%s\0' "$f"; cat -- "$f"; }; done; true"""


def enable_cgroup_controller(
    conn: Connection,
    facts: Facts | None,
    controller: str,
    *,
    dry_run: bool = False,
    grub_default: str = GRUB_DEFAULT,
    grub_dropins: str = GRUB_DROPINS,
    managed: str = GRUB_MANAGED,
    grub_cfgs: Sequence[str] = GRUB_CFGS,
) -> Change:
    """Make the next boot's kernel command line turn controller on: no cgroup_disable
    names it, and, where the running kernel lacks it, cgroup_enable names it.

    With grubby (RHEL, Rocky) every installed kernel's entry is updated. Otherwise the
    lists in /etc/default/grub and its drop-ins lose the controller, cgroup_enable goes
    into one managed drop-in that adds to GRUB_CMDLINE_LINUX, and update-grub writes
    grub.cfg. Nothing changes the running kernel: the controller comes with a reboot.
    """
    grub.check_controller(controller)
    for path in (grub_default, grub_dropins, managed):
        valid_path(path)
    state = read_cgroup_state(conn, grub_cfgs=grub_cfgs)
    missing = controller not in state.controllers
    what = f"cgroup controller {controller} at the next boot"
    if state.next_boot_source == "grubby --info=DEFAULT":
        return _grubby_enable(conn, controller, state, missing, what, dry_run)
    if state.next_boot_source is None:
        raise KitError(
            f"no GRUB configuration found ({', '.join(grub_cfgs)}, grubby): put "
            f"cgroup_enable={controller} on the kernel command line by hand"
        )
    files = _grub_defaults(conn, grub_default, grub_dropins)
    edits = {p: grub.drop_disable(t, controller) for p, t in files.items()}
    edits = {p: t for p, t in edits.items() if t != files[p]}
    texts = {**files, **edits}
    enabled = any(
        grub.enabling(args, controller)
        for text in texts.values()
        for _var, args in grub.assignments(text)
    )
    if missing and not enabled:
        edits[managed] = grub.with_enable(texts.get(managed, ""), controller)
    return _update_grub(
        conn,
        state,
        edits,
        what,
        lambda args: _boot_wants(args, controller, missing),
        f"turn {controller} on",
        grub_cfgs=grub_cfgs,
        dry_run=dry_run,
    )


def _grub_defaults(conn: Connection, grub_default: str, grub_dropins: str) -> dict[str, str]:
    """/etc/default/grub and its drop-ins, path -> text, in the order update-grub reads them."""
    out = conn.read("sh -c %s sh %s %s", _CAT_GRUB_DEFAULTS, grub_default, grub_dropins)
    parts = out.check().stdout.split("\0")[1:]
    return {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2)}


def _update_grub(
    conn: Connection,
    state: CgroupState,
    edits: dict[str, str],
    what: str,
    wanted: Callable[[list[str]], bool],
    wants: str,
    *,
    grub_cfgs: Sequence[str],
    dry_run: bool,
) -> Change:
    """Write the edited GRUB defaults, run update-grub, and see that the default entry of
    the grub.cfg it wrote has what wanted asks for."""
    steps = [_write_root_file(conn, path, text, dry_run) for path, text in sorted(edits.items())]
    assert state.next_boot is not None
    if not edits and wanted(list(state.next_boot)):
        return Change.none(f"{what}: {state.next_boot_source} already has it", dry_run=dry_run)
    command = "command -v update-grub >/dev/null && exec update-grub; exec grub-mkconfig -o %s"
    with journal.live_step(conn, f"update-grub for {what}", dry_run=dry_run):
        if not dry_run:
            conn.run(command, state.next_boot_source, sudo=True, timeout=600).check()
    steps.append(Change.made(f"{state.next_boot_source} regenerated", dry_run=dry_run))
    if not dry_run:
        after = read_cgroup_state(conn, grub_cfgs=grub_cfgs)
        if after.next_boot is None or not wanted(list(after.next_boot)):
            raise KitError(
                f"update-grub ran but {after.next_boot_source or 'grub.cfg'}'s default entry "
                f"still does not {wants}: is GRUB_DEFAULT another entry?"
            )
    return combine(what, steps, dry_run=dry_run)


def _boot_wants(args: list[str], controller: str, missing: bool) -> bool:
    if grub.disabling(args, controller):
        return False
    return not missing or grub.enabling(args, controller) is not None


def _grubby_enable(
    conn: Connection, controller: str, state: CgroupState, missing: bool, what: str, dry_run: bool
) -> Change:
    args = list(state.next_boot or ())
    steps = []
    disabled = grub.disabling(args, controller)
    if disabled:
        rest = [c for c in disabled.partition("=")[2].split(",") if c != controller]
        cmd = "grubby --update-kernel=ALL --remove-args=%s"
        values = [disabled]
        if rest:
            cmd += " --args=%s"
            values.append("cgroup_disable=" + ",".join(rest))
        with journal.live_step(conn, f"grubby: {disabled} removed", dry_run=dry_run):
            if not dry_run:
                conn.run(cmd, *values, sudo=True).check()
        steps.append(Change.made(f"{disabled} removed from every kernel entry", dry_run=dry_run))
    if missing and grub.enabling(args, controller) is None:
        wanted = f"cgroup_enable={controller}"
        with journal.live_step(conn, f"grubby: {wanted} added", dry_run=dry_run):
            if not dry_run:
                conn.run("grubby --update-kernel=ALL --args=%s", wanted, sudo=True).check()
        steps.append(Change.made(f"{wanted} added to every kernel entry", dry_run=dry_run))
    if not steps:
        return Change.none(f"{what}: the default entry already has it", dry_run=dry_run)
    return combine(what, steps, dry_run=dry_run)


def unify_cgroups(
    conn: Connection,
    facts: Facts | None,
    *,
    dry_run: bool = False,
    grub_default: str = GRUB_DEFAULT,
    grub_dropins: str = GRUB_DROPINS,
    managed: str = GRUB_MANAGED,
    grub_cfgs: Sequence[str] = GRUB_CFGS,
) -> Change:
    """Make the next boot mount cgroup v2: no false systemd.unified_cgroup_hierarchy and
    no systemd.legacy_systemd_cgroup_controller on its command line, and, where the
    running kernel is on v1 without being told to (the distribution's systemd defaults to
    v1), systemd.unified_cgroup_hierarchy=1 in the managed drop-in.

    grubby (RHEL, Rocky) updates every installed kernel's entry; otherwise the GRUB
    defaults and drop-ins are edited and update-grub writes grub.cfg. Nothing changes the
    running system: the hierarchy comes with a reboot.
    """
    for path in (grub_default, grub_dropins, managed):
        valid_path(path)
    state = read_cgroup_state(conn, grub_cfgs=grub_cfgs)
    # v1 without a false argument on the running command line: only asking for v2 helps.
    ask = state.version == 1 and grub.unified(list(state.cmdline)) is None
    what = "cgroup v2 at the next boot"
    if state.next_boot_source == "grubby --info=DEFAULT":
        return _grubby_unify(conn, state, ask, what, dry_run)
    if state.next_boot_source is None:
        raise KitError(
            f"no GRUB configuration found ({', '.join(grub_cfgs)}, grubby): take "
            f"{grub.UNIFIED}=0 off the kernel command line by hand"
        )
    files = _grub_defaults(conn, grub_default, grub_dropins)
    edits = {p: grub.drop_v1(t) for p, t in files.items()}
    edits = {p: t for p, t in edits.items() if t != files[p]}
    texts = {**files, **edits}
    asked = any(
        grub.unified(args) for text in texts.values() for _var, args in grub.assignments(text)
    )
    if ask and not asked:
        edits[managed] = grub.with_arg(texts.get(managed, ""), grub.UNIFIED_ON)
    return _update_grub(
        conn,
        state,
        edits,
        what,
        lambda args: _boot_unified(args, ask),
        "boot cgroup v2",
        grub_cfgs=grub_cfgs,
        dry_run=dry_run,
    )


def _boot_unified(args: list[str], ask: bool) -> bool:
    if grub.LEGACY in {a.partition("=")[0] for a in args}:
        return False
    found = grub.unified(args)
    return found is True or (found is None and not ask)


def _grubby_unify(
    conn: Connection, state: CgroupState, ask: bool, what: str, dry_run: bool
) -> Change:
    args = list(state.next_boot or ())
    steps = []
    drop = [
        a
        for a in args
        if a.partition("=")[0] == grub.LEGACY
        or (a.partition("=")[0] == grub.UNIFIED and grub.unified([a]) is False)
    ]
    if drop:
        with journal.live_step(conn, f"grubby: {' '.join(drop)} removed", dry_run=dry_run):
            if not dry_run:
                conn.run(
                    "grubby --update-kernel=ALL --remove-args=%s", " ".join(drop), sudo=True
                ).check()
        steps.append(Change.made(f"{' '.join(drop)} removed from every entry", dry_run=dry_run))
    if ask and grub.unified(args) is not True:
        with journal.live_step(conn, f"grubby: {grub.UNIFIED_ON} added", dry_run=dry_run):
            if not dry_run:
                conn.run("grubby --update-kernel=ALL --args=%s", grub.UNIFIED_ON, sudo=True).check()
        steps.append(Change.made(f"{grub.UNIFIED_ON} added to every entry", dry_run=dry_run))
    if not steps:
        return Change.none(f"{what}: the default entry already has it", dry_run=dry_run)
    return combine(what, steps, dry_run=dry_run)


def _write_root_file(conn: Connection, path: str, text: str, dry_run: bool) -> Change:
    old, _ = stat_and_read(conn, path, sudo=True)
    if old is not None:
        return write_file(conn, path, encode(text), sudo=True, dry_run=dry_run)
    parent = mkdirp(conn, posixpath.dirname(path), mode="0755", sudo=True, dry_run=dry_run)
    written = write_file(conn, path, encode(text), mode="0644", sudo=True, dry_run=dry_run)
    return combine(path, [parent, written], dry_run=dry_run)


# The options the facts gather reads from the kernel config (gather.sh's kernelprep
# block): others cost a read of their own.
GATHERED_KCONFIG = re.compile(
    r"NAMESPACES|[A-Z]+_NS|CGROUPS|CGROUP_[A-Z0-9_]+|CPUSETS|MEMCG|INET|EXT4_FS|PROC_FS"
    r"|NETFILTER_XT_[A-Z0-9_]+|IP_NF_[A-Z0-9_]+|FAIR_GROUP_SCHED|OVERLAY_FS|OVERLAYFS_FS"
    r"|AUFS_FS|BLK_DEV_DM|CFS_BANDWIDTH|SECCOMP|SECCOMP_FILTER"
)


def kernel_config_of(
    conn: Connection, facts: Facts, names: Sequence[str]
) -> tuple[str | None, dict[str, str]]:
    """read_kernel_config's answer, from the facts when they gathered every name."""
    prep = facts.kernelprep
    wanted = [n.removeprefix("CONFIG_") for n in names]
    if prep is not None and all(GATHERED_KCONFIG.fullmatch(n) for n in wanted):
        return prep.config_path, parse_kernel_config(prep.config)
    return read_kernel_config(conn, facts.kernel, wanted)


def cgroup_state_of(conn: Connection, facts: Facts) -> CgroupState:
    """read_cgroup_state's answer, from the facts where they gathered it."""
    if facts.kernelprep is not None:
        return parse_cgroup_state(facts.kernelprep.cgroup)
    return read_cgroup_state(conn)
