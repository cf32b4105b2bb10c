"""Mounts and filesystems: fstab and /proc/self/mounts stand-ins in a temp dir,
mkfs only on a regular file made here. Nothing is mounted or unmounted."""

import os
import subprocess

import pytest

from kit.edits import fstab as fstab_edit
from kit.errors import KitError, KitValueError
from kit.runner import storage
from tests.local.recording import RecordingConnection

MOUNTS = (
    "proc /proc proc rw,nosuid 0 0\n"
    "/dev/sdz1 /mnt/my\\040data ext4 rw,relatime 0 0\n"
    "tmpfs /run tmpfs rw 0 0\n"
)


@pytest.fixture
def conn():
    return RecordingConnection()


@pytest.fixture
def mounts(tmp_path):
    (tmp_path / "mounts").write_text(MOUNTS)
    return str(tmp_path / "mounts")


def test_is_mounted_reads_the_real_mount_table(conn, tmp_path):
    with open("/proc/self/mounts") as f:
        first = fstab_edit.parse(f.read())[0]
    assert storage.is_mounted(conn, first.file)
    assert not storage.is_mounted(conn, str(tmp_path))


def test_is_mounted_decodes_octal_escapes(conn, mounts):
    assert storage.is_mounted(conn, "/mnt/my data/", mounts=mounts)
    assert not storage.is_mounted(conn, "/mnt/my", mounts=mounts)


def test_mount_already_there_sends_nothing_and_a_stranger_is_an_error(conn, mounts):
    assert not storage.mount(conn, "/dev/sdz1", "/mnt/my data", "ext4", mounts=mounts).changed
    assert not conn.writes()
    with pytest.raises(KitError, match="/dev/sdz1 mounted, not /dev/sdy1"):
        storage.mount(conn, "/dev/sdy1", "/mnt/my data", mounts=mounts, dry_run=True)


def test_mount_dry_run_plans_the_directory_and_the_mount(conn, mounts, tmp_path):
    target = tmp_path / "new mp"
    plan = storage.mount(
        conn, "/dev/sdx1", str(target), "xfs", ["noatime"], mounts=mounts, dry_run=True
    )
    assert plan.changed and "directory created" in plan.summary and "mounted" in plan.summary
    assert not target.exists() and not conn.writes()


def test_unmount_nothing_there_or_dry_run(conn, mounts, tmp_path):
    assert not storage.unmount(conn, str(tmp_path), mounts=mounts).changed
    plan = storage.unmount(conn, "/mnt/my data", mounts=mounts, dry_run=True)
    assert plan.changed and "/dev/sdz1" in plan.summary
    assert not conn.writes()


def test_ensure_mount_keeps_one_fstab_entry_and_then_does_nothing(conn, mounts, tmp_path):
    fstab = tmp_path / "fstab"
    fstab.write_text(
        "# keep me\n/dev/old /mnt/my\\040data ext3 defaults 0 0\nproc /proc proc defaults 0 0\n"
    )
    kw = {"fstab": str(fstab), "mounts": mounts}
    change = storage.ensure_mount(conn, "/dev/sdz1", "/mnt/my data", "ext4", ["noatime"], **kw)
    assert change.changed
    assert fstab.read_text() == (
        "# keep me\n/dev/sdz1 /mnt/my\\040data ext4 noatime 0 0\nproc /proc proc defaults 0 0\n"
    )
    conn.reset()
    assert not storage.ensure_mount(
        conn, "/dev/sdz1", "/mnt/my data", "ext4", ["noatime"], **kw
    ).changed
    assert not conn.writes()


def test_ensure_mount_validates_before_running(conn, tmp_path):
    for args in (
        ("/dev/x", "relative", "ext4"),
        ("/dev/x", "/mnt", "ext4;reboot"),
        ("-oremount", "/mnt", "ext4"),
    ):
        with pytest.raises(KitValueError):
            storage.ensure_mount(conn, *args, fstab=str(tmp_path / "f"), dry_run=True)
    with pytest.raises(KitValueError):
        storage.ensure_mount(conn, "/dev/x", "/mnt", "ext4", ["a b"], dry_run=True)
    assert conn.commands == []


@pytest.fixture
def image(tmp_path):
    if not os.path.exists("/usr/sbin/mkfs.ext4") and not os.path.exists("/sbin/mkfs.ext4"):
        pytest.skip("mkfs.ext4 is not installed")
    path = tmp_path / "disk.img"
    with open(path, "wb") as f:
        f.truncate(16 * 1024 * 1024)
    return str(path)


def test_make_filesystem_once_and_refuse_to_replace_without_force(conn, image):
    assert storage.make_filesystem(conn, image, "ext4", dry_run=True).changed
    assert not conn.writes() and storage.filesystem_of(conn, image) == {}
    assert storage.make_filesystem(conn, image, "ext4").changed
    probed = subprocess.run(
        ["blkid", "-p", "-o", "value", "-s", "TYPE", image], capture_output=True
    )
    assert probed.stdout.strip() == b"ext4"
    conn.reset()
    assert not storage.make_filesystem(conn, image, "ext4").changed
    assert not conn.writes()
    with pytest.raises(KitError, match="already has ext4; refusing"):
        storage.make_filesystem(conn, image, "xfs")
    plan = storage.make_filesystem(conn, image, "xfs", force=True, dry_run=True)
    assert plan.changed and "was ext4" in plan.summary and not conn.writes()


def test_make_filesystem_on_a_missing_device(conn, tmp_path):
    with pytest.raises(KitError, match="does not exist"):
        storage.make_filesystem(conn, str(tmp_path / "nope"), "ext4")
