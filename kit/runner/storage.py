"""Mounts, fstab entries and filesystems."""

from __future__ import annotations

import re
from collections.abc import Sequence

from kit.connection import Connection
from kit.edits import fstab as fstab_edit
from kit.errors import KitError, KitValueError
from kit.runner.change import Change, combine
from kit.runner.files import mkdirp, stat_and_read, write_file
from kit.runner.validate import path as valid_path

FSTAB = "/etc/fstab"
MOUNTS = "/proc/self/mounts"

_FSTYPE = re.compile(r"^[a-z0-9][a-z0-9_.+-]{0,31}$")
_OPTION = re.compile(r"^[^\s,#\0]+$")

# $1 and $2 resolved to the device path they name (UUID=, LABEL=, symlinks).
_RESOLVE = r"""r() { case "$1" in
  UUID=*|LABEL=*|PARTUUID=*|PARTLABEL=*) blkid -l -o device -t "$1" 2>/dev/null || echo "$1";;
  /*) readlink -f -- "$1" 2>/dev/null || echo "$1";;
  *) echo "$1";; esac; }
r "$1"; r "$2"
"""

# Filesystem flags that make mkfs write without asking (we asked blkid first),
# and the one that overwrites another filesystem.
_QUIET = {"ext2": ["-F", "-q"], "ext3": ["-F", "-q"], "ext4": ["-F", "-q"]}
_FORCE = {"xfs": ["-f"], "btrfs": ["-f"]}


def mounted(conn: Connection, *, mounts: str = MOUNTS) -> list[fstab_edit.Entry]:
    """What is mounted now, from /proc/self/mounts (escapes such as \\040 decoded)."""
    return fstab_edit.parse(conn.read("cat -- %s", valid_path(mounts)).check().stdout)


def mount_at(conn: Connection, mountpoint: str, *, mounts: str = MOUNTS) -> fstab_edit.Entry | None:
    """The mount on top at mountpoint (the last one listed), or None."""
    found = None
    for entry in mounted(conn, mounts=mounts):
        if fstab_edit.same_mountpoint(entry.file, mountpoint):
            found = entry
    return found


def is_mounted(conn: Connection, path: str, *, mounts: str = MOUNTS) -> bool:
    """Whether path is a mount point."""
    return mount_at(conn, valid_path(path), mounts=mounts) is not None


def mount(
    conn: Connection,
    device: str,
    mountpoint: str,
    fstype: str | None = None,
    options: Sequence[str] = (),
    *,
    dry_run: bool = False,
    mounts: str = MOUNTS,
) -> Change:
    """Mount device at mountpoint (created if missing) unless it is already mounted there.

    Something else mounted there is an error, not something to mount over.
    """
    _check(device, mountpoint, fstype, options)
    current = mount_at(conn, mountpoint, mounts=mounts)
    if current is not None:
        if not _same_device(conn, device, current.spec):
            raise KitError(f"{mountpoint} has {current.spec} mounted, not {device}")
        return Change.none(f"{device} already mounted at {mountpoint}", dry_run=dry_run)
    made = mkdirp(conn, mountpoint, sudo=True, dry_run=dry_run)
    if not dry_run:
        cmd, args = "mount", []
        if fstype:
            cmd, args = cmd + " -t %s", [*args, fstype]
        if options:
            cmd, args = cmd + " -o %s", [*args, ",".join(options)]
        conn.run(cmd + " %s %s", *args, device, mountpoint, sudo=True).check()
    done = Change.made(f"mounted {device} at {mountpoint}", dry_run=dry_run)
    return combine(f"mount {mountpoint}", [made, done], dry_run=dry_run)


def unmount(
    conn: Connection,
    mountpoint: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    mounts: str = MOUNTS,
) -> Change:
    """Unmount mountpoint (umount -f with force) unless nothing is mounted there."""
    current = mount_at(conn, valid_path(mountpoint), mounts=mounts)
    if current is None:
        return Change.none(f"nothing mounted at {mountpoint}", dry_run=dry_run)
    if not dry_run:
        conn.run("umount -f %s" if force else "umount %s", mountpoint, sudo=True).check()
    return Change.made(f"unmounted {current.spec} from {mountpoint}", dry_run=dry_run)


def ensure_mount(
    conn: Connection,
    device: str,
    mountpoint: str,
    fstype: str,
    options: Sequence[str] = ("defaults",),
    *,
    persistent: bool = True,
    dump: int = 0,
    passno: int = 0,
    dry_run: bool = False,
    fstab: str = FSTAB,
    mounts: str = MOUNTS,
) -> Change:
    """Mounted now and, persistent, exactly one fstab entry for mountpoint.

    The fstab entry is written first, so a mount that fails leaves the wanted
    configuration for the next boot and the error for the caller.
    """
    _check(device, mountpoint, fstype, options)
    steps = []
    if persistent:
        entry = fstab_edit.Entry(device, mountpoint, fstype, ",".join(options), dump, passno)
        steps.append(_set_fstab(conn, valid_path(fstab), entry, dry_run))
    steps.append(mount(conn, device, mountpoint, fstype, options, dry_run=dry_run, mounts=mounts))
    return combine(f"{device} on {mountpoint}", steps, dry_run=dry_run)


def filesystem_of(conn: Connection, device: str) -> dict[str, str]:
    """What blkid finds on device (TYPE, UUID, PTTYPE...); empty when it is blank."""
    res = conn.read("blkid -p -o export %s", valid_path(device), sudo=True)
    if res.rc == 2:
        return {}
    if not res.ok:
        raise KitError(f"blkid cannot probe {device}: {res.stderr.strip() or res.rc}")
    found = {}
    for line in res.stdout.splitlines():
        key, eq, value = line.partition("=")
        if eq:
            found[key] = value
    return found


def make_filesystem(
    conn: Connection,
    device: str,
    fstype: str,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> Change:
    """Create a fstype filesystem on device.

    A device that already has fstype is left alone (force or not). One with
    another filesystem or a partition table is refused unless force.
    """
    _check_fstype(fstype)
    if not conn.read("test -e %s", valid_path(device)).ok:
        raise KitError(f"{device} does not exist")
    found = filesystem_of(conn, device)
    have = found.get("TYPE") or (
        f"a {found['PTTYPE']} partition table" if "PTTYPE" in found else ""
    )
    if found.get("TYPE") == fstype:
        return Change.none(f"{device} already has {fstype}", dry_run=dry_run)
    if have and not force:
        raise KitError(f"{device} already has {have}; refusing to format it without force=True")
    if not dry_run:
        flags = _QUIET.get(fstype, []) + (_FORCE.get(fstype, []) if have else [])
        cmd = "%s" + " %s" * len(flags) + " %s"
        res = conn.run(cmd, f"mkfs.{fstype}", *flags, device, sudo=True)
        if not res.ok:
            raise KitError(f"mkfs.{fstype} {device} failed: {res.stderr.strip()[:300]}")
    was = f" (was {have})" if have else ""
    return Change.made(f"{device}: {fstype} created{was}", dry_run=dry_run)


def _set_fstab(conn: Connection, fstab: str, entry: fstab_edit.Entry, dry_run: bool) -> Change:
    old, _ = stat_and_read(conn, fstab, sudo=True)
    text = old.decode("utf-8", errors="surrogateescape") if old is not None else ""
    new = fstab_edit.set_entry(text, entry)
    if old is not None and new == text:
        return Change.none(f"{fstab} already mounts {entry.file}", dry_run=dry_run)
    data = new.encode("utf-8", errors="surrogateescape")
    return write_file(
        conn, fstab, data, mode="0644" if old is None else None, sudo=True, dry_run=dry_run
    )


def _same_device(conn: Connection, want: str, have: str) -> bool:
    if want == have:
        return True
    out = conn.read("sh -c %s sh %s %s", _RESOLVE, want, have).stdout.splitlines()
    return len(out) == 2 and out[0] == out[1]


def _check(device: str, mountpoint: str, fstype: str | None, options: Sequence[str]) -> None:
    if not device or any(c in device for c in "\n\r\0") or device.startswith(("-", "#")):
        raise KitValueError(f"invalid device: {device!r}")
    valid_path(mountpoint)
    if fstype is not None:
        _check_fstype(fstype)
    if isinstance(options, str):
        raise KitValueError("mount options must be a sequence of strings, not one string")
    for opt in options:
        if not _OPTION.match(opt):
            raise KitValueError(f"invalid mount option: {opt!r}")


def _check_fstype(fstype: str) -> None:
    if not _FSTYPE.match(fstype):
        raise KitValueError(f"invalid filesystem type: {fstype!r}")
