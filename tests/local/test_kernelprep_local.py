"""The kernel config read on this machine, against Python's own reading of the same file.

Read-only: the first config where kubeadm's validator looks, read through the local
connection, must give what gzip and the validator's line pattern give here.
"""

from __future__ import annotations

import gzip
import os
import re

import pytest

from kit.errors import KitError, KitValueError
from kit.runner import kernel
from tests.local.recording import RecordingConnection

NAMES = ["NAMESPACES", "MEMCG", "EXT4_FS", "OVERLAY_FS", "AUFS_FS", "NETFILTER_XT_MATCH_COMMENT"]


def _first_config(release: str) -> str | None:
    return next((p for p in kernel.kernel_config_paths(release) if os.path.exists(p)), None)


def test_read_kernel_config_matches_this_machines_config():
    release = os.uname().release
    path = _first_config(release)
    if path is None:
        pytest.skip(f"no kernel config on this machine for {release}")
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    expected = {
        m.group(1): m.group(2)
        for m in re.finditer(rb"(?m)^\s*(CONFIG_[A-Z0-9_]+)=([myn])", raw)
        if m.group(1).decode().removeprefix("CONFIG_") in NAMES
    }
    conn = RecordingConnection()
    found_path, values = kernel.read_kernel_config(conn, release, NAMES)
    assert found_path == path
    assert values == {k.decode(): v.decode() for k, v in expected.items()}
    assert "CONFIG_NAMESPACES" in values  # every kernel that runs containers has it
    assert not conn.writes()


def test_bad_names_never_reach_the_host():
    conn = RecordingConnection()
    with pytest.raises(KitValueError):
        kernel.read_kernel_config(conn, os.uname().release, ["MEMCG|x; rm -rf /"])
    with pytest.raises(KitValueError):
        kernel.read_kernel_config(conn, "6.1; reboot", ["MEMCG"])


def test_disk_free_reads_the_nearest_existing_parent_as_statvfs_does(tmp_path):
    from hostkit_catalog.checks import test_disk

    missing = tmp_path / "var" / "lib" / "kubelet"
    out = RecordingConnection().read("sh -c %s sh %s", test_disk._DF, str(missing)).check()
    existing, _, df = out.stdout.partition("\n")
    assert existing == str(tmp_path)
    space = test_disk.parse_df(df)
    st = os.statvfs(tmp_path)
    assert space.size_kib == st.f_blocks * st.f_frsize // 1024
    # Other writers share the filesystem: the free space moves a little between reads.
    assert abs(space.avail_kib - st.f_bavail * st.f_frsize // 1024) < 64 * 1024


LIVE_MISSING = "hk_absent"  # a name no kernel has: "missing now" on any machine


def _grub_tree(tmp_path, default: str, cfg_args: str) -> dict:
    (tmp_path / "grub.d").mkdir()
    (tmp_path / "grub").write_text(default)
    cfg = tmp_path / "grub.cfg"
    cfg.write_text(
        f"menuentry 'Debian' {{\n\tlinux\t/boot/vmlinuz root=/dev/vda1 ro {cfg_args}\n}}\n"
    )
    return {
        "grub_default": str(tmp_path / "grub"),
        "grub_dropins": str(tmp_path / "grub.d"),
        "managed": str(tmp_path / "grub.d" / "99-hostkit.cfg"),
        "grub_cfgs": (str(cfg),),
    }


def test_enable_cgroup_controller_plans_the_drop_in_and_update_grub(tmp_path):
    paths = _grub_tree(
        tmp_path, f'GRUB_CMDLINE_LINUX="quiet cgroup_disable={LIVE_MISSING}"\n', "quiet"
    )
    conn = RecordingConnection()
    change = kernel.enable_cgroup_controller(conn, None, LIVE_MISSING, dry_run=True, **paths)
    assert change.changed and change.dry_run
    assert f"cgroup_enable={LIVE_MISSING}" in change.diff
    assert f'-GRUB_CMDLINE_LINUX="quiet cgroup_disable={LIVE_MISSING}"' in change.diff
    assert "grub.cfg regenerated" in change.summary
    assert not conn.writes()
    assert (tmp_path / "grub").read_text().endswith(f'cgroup_disable={LIVE_MISSING}"\n')


def test_enable_cgroup_controller_does_nothing_when_the_next_boot_has_it(tmp_path):
    paths = _grub_tree(
        tmp_path,
        f'GRUB_CMDLINE_LINUX="quiet"\nGRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX '
        f'cgroup_enable={LIVE_MISSING}"\n',
        f"quiet cgroup_enable={LIVE_MISSING}",
    )
    conn = RecordingConnection()
    change = kernel.enable_cgroup_controller(conn, None, LIVE_MISSING, **paths)
    assert not change.changed, change
    assert "already has it" in change.summary
    assert not conn.writes()


def test_enable_cgroup_controller_without_grub_says_so(tmp_path):
    conn = RecordingConnection()
    with pytest.raises(KitError, match="no GRUB configuration found"):
        kernel.enable_cgroup_controller(
            conn, None, LIVE_MISSING, dry_run=True, grub_cfgs=(str(tmp_path / "none.cfg"),)
        )


def test_unify_cgroups_plans_taking_v1_off_the_command_line(tmp_path):
    paths = _grub_tree(
        tmp_path,
        'GRUB_CMDLINE_LINUX="quiet systemd.unified_cgroup_hierarchy=0"\n',
        "quiet systemd.unified_cgroup_hierarchy=0",
    )
    conn = RecordingConnection()
    change = kernel.unify_cgroups(conn, None, dry_run=True, **paths)
    assert change.changed and change.dry_run
    assert '-GRUB_CMDLINE_LINUX="quiet systemd.unified_cgroup_hierarchy=0"' in change.diff
    assert '+GRUB_CMDLINE_LINUX="quiet"' in change.diff
    # This machine's own cgroup hierarchy, read independently: booted into v1 without
    # the argument, v1 is systemd's default here and v2 must be asked for.
    v1_default = _fs_type("/sys/fs/cgroup") == "tmpfs"
    v1_default = v1_default and "systemd.unified_cgroup_hierarchy" not in _cmdline()
    assert ("systemd.unified_cgroup_hierarchy=1" in change.diff) == v1_default, change.diff
    assert "grub.cfg regenerated" in change.summary
    assert not conn.writes()


def test_unify_cgroups_does_nothing_when_the_next_boot_asks_for_v2(tmp_path):
    paths = _grub_tree(
        tmp_path,
        'GRUB_CMDLINE_LINUX="quiet systemd.unified_cgroup_hierarchy=1"\n',
        "quiet systemd.unified_cgroup_hierarchy=1",
    )
    conn = RecordingConnection()
    change = kernel.unify_cgroups(conn, None, **paths)
    assert not change.changed, change
    assert "already has it" in change.summary
    assert not conn.writes()


def _fs_type(path: str) -> str:
    with open("/proc/self/mountinfo") as mounts:
        lines = mounts.read().splitlines()
    for line in lines:
        left, _, right = line.partition(" - ")
        if left.split()[4] == path:
            return right.split()[0]
    return ""


def _cmdline() -> str:
    with open("/proc/cmdline") as cmdline:
        return cmdline.read()
