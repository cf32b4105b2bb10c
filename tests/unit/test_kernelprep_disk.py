"""Free space under the node's state directories, from recorded `df -P -k` output.

kubelet's hard eviction defaults (pkg/kubelet/eviction/defaults_linux.go,
DefaultEvictionHard) are nodefs.available<10% and imagefs.available<15%, measured as
statfs's f_bavail against f_blocks (pkg/kubelet/eviction/helpers.go, the "available" and
"capacity" of the filesystem stats): df's Available against its 1024-blocks, not its
Capacity column, which leaves out root's reserved blocks.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hostkit_catalog.checks import test_disk
from kit.catalog import profile
from kit.errors import KitValueError
from tests.unit.test_catalog_verdicts import fails

HEADER = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n"
# Debian 12 cloud image: ext4 on the whole disk, 5% reserved for root.
DEBIAN = HEADER + "/dev/vda1         20466256 17900000   1501856      93% /\n"
# Ubuntu 22.04 server: LVM.
UBUNTU = HEADER + "/dev/mapper/ubuntu--vg-ubuntu--lv  30787492  9216052  20982192  31% /\n"
# Rocky 9: xfs, /var a logical volume of its own, nothing reserved.
ROCKY = HEADER + "/dev/mapper/rl-var    10475520   9580000    895520      92% /var\n"


@pytest.mark.parametrize(
    "text,device,mount,percent",
    [
        (DEBIAN, "/dev/vda1", "/", 7.34),
        (UBUNTU, "/dev/mapper/ubuntu--vg-ubuntu--lv", "/", 68.15),
        (ROCKY, "/dev/mapper/rl-var", "/var", 8.55),
    ],
)
def test_parse_df(text, device, mount, percent):
    space = test_disk.parse_df(text)
    assert (space.device, space.mountpoint) == (device, mount)
    assert space.percent_free == pytest.approx(percent, abs=0.01)


def test_debian_at_93_percent_used_is_under_kubelets_10_percent():
    # df says 93% used, so 7% "free" by its Capacity column would be wrong by a lot on a
    # disk with reserved blocks: kubelet counts 1501856 / 20466256 = 7.3% available.
    space = test_disk.parse_df(DEBIAN)
    message = fails(test_disk.space_verdict, "/var/lib/kubelet", "/var/lib", space, "10%")
    assert message.startswith(
        "/var/lib/kubelet (not there yet; /var/lib) is on / (/dev/vda1) with 7.3% free "
        "(1.4 GiB of 19.5 GiB), want at least 10%"
    )
    test_disk.space_verdict("/var/lib/kubelet", "/var/lib/kubelet", space, "1GiB")


def test_ubuntu_passes_and_rocky_imagefs_fails_at_15_percent():
    test_disk.space_verdict("/var/lib/containerd", "/var/lib", test_disk.parse_df(UBUNTU), "15%")
    fails(
        test_disk.space_verdict,
        "/var/lib/containerd",
        "/var/lib/containerd",
        test_disk.parse_df(ROCKY),
        "15%",
        match="/var/lib/containerd is on /var (/dev/mapper/rl-var) with 8.5% free",
    )


def test_thresholds():
    assert test_disk.parse_threshold("10%") == (10.0, "%")
    assert test_disk.parse_threshold("2GiB") == (2 * 1024 * 1024, "KiB")
    assert test_disk.parse_threshold("500MiB") == (500 * 1024, "KiB")
    for bad in ("10", "120%", "2GB", ""):
        with pytest.raises(KitValueError):
            test_disk.parse_threshold(bad)
    with pytest.raises(KitValueError):
        test_disk.parse_df("df: /nowhere: No such file or directory\n")


def test_profiles_take_kubelets_eviction_thresholds():
    directory = Path(test_disk.__file__).parent / "profiles"
    node = dict(profile.load("kubernetes-node", directory).values("disk_free"))
    plane = dict(profile.load("kubernetes-control-plane", directory).values("disk_free"))
    assert node == {"/var/lib/kubelet": "10%", "/var/lib/containerd": "15%"}
    assert plane == {**node, "/var/lib/etcd": "10%"}
