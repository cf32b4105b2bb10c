"""The kernel config read on this machine, against Python's own reading of the same file.

Read-only: the first config where kubeadm's validator looks, read through the local
connection, must give what gzip and the validator's line pattern give here.
"""

from __future__ import annotations

import gzip
import os
import re

import pytest

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
    with pytest.raises(kernel.KitValueError):
        kernel.read_kernel_config(conn, os.uname().release, ["MEMCG|x; rm -rf /"])
    with pytest.raises(kernel.KitValueError):
        kernel.read_kernel_config(conn, "6.1; reboot", ["MEMCG"])


def test_disk_free_reads_the_nearest_existing_parent_as_statvfs_does(tmp_path):
    from checks import test_disk

    missing = tmp_path / "var" / "lib" / "kubelet"
    out = RecordingConnection().read("sh -c %s sh %s", test_disk._DF, str(missing)).check()
    existing, _, df = out.stdout.partition("\n")
    assert existing == str(tmp_path)
    space = test_disk.parse_df(df)
    st = os.statvfs(tmp_path)
    assert space.size_kib == st.f_blocks * st.f_frsize // 1024
    # Other writers share the filesystem: the free space moves a little between reads.
    assert abs(space.avail_kib - st.f_bavail * st.f_frsize // 1024) < 64 * 1024
