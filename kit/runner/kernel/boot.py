"""cgroup controllers and the kernel command line of the next boot: read them, and change
them through the boot loader (GRUB's defaults and update-grub, or grubby).

Nothing here changes the running kernel: what changes comes with the next boot.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kit.connection import Connection
from kit.edits import encode, grub
from kit.errors import KitError
from kit.runner import journal
from kit.runner.change import Change, combine
from kit.runner.files import mkdirp, stat_and_read, write_file
from kit.runner.validate import path as valid_path

if TYPE_CHECKING:
    from kit.facts import Facts


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
        next_boot, next_source = (
            grub.grubby_args(sections["grubby"]),
            "grubby --info=DEFAULT",
        )
    if next_boot is None:
        for key, body in sections.items():
            if key.startswith("grub-cfg:"):
                next_boot, next_source = (
                    grub.grub_cfg_args(body),
                    key[len("grub-cfg:") :],
                )
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
    conn: Connection,
    controller: str,
    state: CgroupState,
    missing: bool,
    what: str,
    dry_run: bool,
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
                    "grubby --update-kernel=ALL --remove-args=%s",
                    " ".join(drop),
                    sudo=True,
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


def cgroup_state_of(conn: Connection, facts: Facts) -> CgroupState:
    """read_cgroup_state's answer, from the facts where they gathered it."""
    if facts.kernelprep is not None:
        return parse_cgroup_state(facts.kernelprep.cgroup)
    return read_cgroup_state(conn)
