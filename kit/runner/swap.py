"""Swap: off now (swapoff -a), off at boot (fstab lines commented, swap.target masked)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kit.connection import Connection
from kit.edits import fstab as fstab_edit
from kit.edits import lines
from kit.runner import journal
from kit.runner.change import Change, combine
from kit.runner.files import stat_and_read, write_file
from kit.runner.validate import path as valid_path

if TYPE_CHECKING:
    from kit.facts import Facts

FSTAB = "/etc/fstab"
PROC_SWAPS = "/proc/swaps"
SYSTEMD_RUNTIME = "/run/systemd/system"


def active_swaps(conn: Connection, *, proc_swaps: str = PROC_SWAPS) -> list[str]:
    """Devices and files swapping now (first column of /proc/swaps, past its header)."""
    # No /proc/swaps (some containers) means no swap, not an error.
    script = "if [ -e %s ]; then cat -- %s; fi"
    text = conn.read(script, valid_path(proc_swaps), proc_swaps).check().stdout
    return parse_proc_swaps(text)


def parse_proc_swaps(text: str) -> list[str]:
    rows = text.splitlines()[1:]
    # Names are octal-escaped like /proc/self/mounts (a blank is \040).
    return [fstab_edit.decode(row.split()[0]) for row in rows if row.strip()]


def is_swap_enabled(conn: Connection, *, proc_swaps: str = PROC_SWAPS) -> bool:
    """Whether any swap is active now (`/proc/swaps`). Reads only."""
    return bool(active_swaps(conn, proc_swaps=proc_swaps))


def disable_swap(
    conn: Connection,
    facts: Facts | None,
    *,
    dry_run: bool = False,
    fstab: str = FSTAB,
    proc_swaps: str = PROC_SWAPS,
    systemd_runtime: str = SYSTEMD_RUNTIME,
) -> Change:
    """Turn swap off now and for every boot after.

    swapoff -a; every swap line of fstab that boot turns on commented out (a
    `noauto` line, and all other lines, left byte-identical); on systemd,
    swap.target masked so that no swap unit (enabled by hand, or a generator's:
    fstab, GPT auto-swap, zram-generator) turns it back on.
    """
    steps = []
    active = active_swaps(conn, proc_swaps=proc_swaps)
    if active:
        with journal.live_step(conn, "swapoff -a", dry_run=dry_run):
            if not dry_run:
                conn.run("swapoff -a", sudo=True).check()
        steps.append(Change.made(f"swapoff ({', '.join(active)})", dry_run=dry_run))
    else:
        steps.append(Change.none("no active swap", dry_run=dry_run))
    steps.append(_comment_fstab(conn, valid_path(fstab), dry_run))
    if _is_systemd(conn, facts, systemd_runtime):
        steps.append(_mask_swap_target(conn, dry_run))
    return combine("swap disabled", steps, dry_run=dry_run)


def _comment_fstab(conn: Connection, fstab: str, dry_run: bool) -> Change:
    old, _ = stat_and_read(conn, fstab, sudo=True)
    if old is None:
        return Change.none(f"{fstab} does not exist", dry_run=dry_run)
    text = old.decode("utf-8", errors="surrogateescape")
    new = comment_swap_at_boot(text)
    if new == text:
        return Change.none(f"{fstab} has no swap line", dry_run=dry_run)
    data = new.encode("utf-8", errors="surrogateescape")
    return write_file(conn, fstab, data, sudo=True, dry_run=dry_run)


def comment_swap_at_boot(text: str) -> str:
    """Comment out the swap lines boot turns on; a `noauto` line stays as it is, since
    neither swapon -a nor systemd-fstab-generator's swap.target activates it."""
    out = []
    for line in lines(text):
        entry = fstab_edit.parse_line(line)
        on = entry is not None and entry.vfstype == "swap" and "noauto" not in entry.options
        out.append("#" + line if on else line)
    return "".join(out)


def _is_systemd(conn: Connection, facts: Facts | None, runtime_dir: str) -> bool:
    init = getattr(getattr(facts, "init_system", None), "type", None)
    if init is not None and init != "unknown":
        return init == "systemd"
    # Without facts, the same test sd_booted(3) makes.
    return conn.read("test -d %s", valid_path(runtime_dir)).ok


def _mask_swap_target(conn: Connection, dry_run: bool) -> Change:
    state = conn.read("systemctl is-enabled swap.target").stdout.strip()
    if state in {"masked", "masked-runtime"}:
        return Change.none("swap.target masked", dry_run=dry_run)
    with journal.live_step(conn, "mask swap.target", dry_run=dry_run):
        if not dry_run:
            conn.run("systemctl mask swap.target", sudo=True).check()
    return Change.made(f"swap.target masked (was {state or 'unknown'})", dry_run=dry_run)
