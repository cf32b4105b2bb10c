"""The runner's kernel, swap, storage and time operations on the VM, across a reboot.

One test, in order: each step puts the VM in the wrong state, applies the
operation, reads the result back with a plain shell command (never the runner's
own read), and applies again to get no change. The reboot at the end proves the
persistent half of each operation. The VM is shared with other modules, so the
mount is taken away again at the end.
"""

from __future__ import annotations

import time

import pytest

import kit.runner as runner
from kit.facts import gather_facts
from tests.hosts.conftest import VM_REBOOT_TIMEOUT

hosts = pytest.mark.hosts

SWAPFILE = "/hk-runner-swap"
DEVICE = "/dev/vdb"
MOUNTPOINT = "/mnt/data"
ZONE = "America/Argentina/Buenos_Aires"


def sh(conn, cmd: str, *args: object) -> str:
    return conn.run(cmd, *args).check().stdout


def active_swaps(conn) -> list[str]:
    return [line.split()[0] for line in sh(conn, "cat /proc/swaps").splitlines()[1:]]


def live_fstab_lines(conn, word: str) -> list[str]:
    return [
        line
        for line in sh(conn, "cat /etc/fstab").splitlines()
        if word in line and not line.lstrip().startswith("#")
    ]


@hosts
def test_vm_operations_hold_and_survive_a_reboot(vm):
    with vm.connect() as conn:
        facts = gather_facts(conn)
        try:
            _apply_all(conn, facts)
            started = time.monotonic()
            assert runner.reboot(conn, timeout=VM_REBOOT_TIMEOUT, accept_disconnect=True).changed
            rebooted_in = time.monotonic() - started
            _after_reboot(conn)
            print(f"reboot took {rebooted_in:.0f}s")
        finally:
            conn.run("umount %s; sed -i '\\#^/dev/vdb #d' /etc/fstab", MOUNTPOINT)
            conn.run("systemctl daemon-reload")


def _apply_all(conn, facts) -> None:
    # swap: an active swap file that fstab would turn on again at boot
    sh(
        conn,
        "fallocate -l 16M %s && chmod 600 %s && mkswap %s >/dev/null && swapon %s",
        SWAPFILE, SWAPFILE, SWAPFILE, SWAPFILE,
    )  # fmt: skip
    sh(conn, "echo %s >> /etc/fstab", f"{SWAPFILE} none swap sw 0 0")
    assert SWAPFILE in active_swaps(conn)
    assert runner.disable_swap(conn, facts).changed
    assert active_swaps(conn) == []
    # A noauto swap line turns nothing on at boot, so disable_swap leaves it alone.
    assert [ln for ln in live_fstab_lines(conn, "swap") if "noauto" not in ln] == []
    assert f"#{SWAPFILE}" in sh(conn, "cat /etc/fstab").replace("# ", "#")
    assert not runner.disable_swap(conn, facts).changed

    # a module, loaded now and at boot, and the bridge sysctl it brings; the VM is
    # shared, so the boot listing another module may have written is taken away first
    conn.run("modprobe -r br_netfilter")
    sh(conn, "rm -f /etc/modules-load.d/hostkit-br_netfilter.conf")
    assert "br_netfilter" not in sh(conn, "cat /proc/modules")
    assert runner.load_module(conn, facts, "br_netfilter").changed
    assert "br_netfilter" in sh(conn, "cut -d' ' -f1 /proc/modules").split()
    assert not runner.load_module(conn, facts, "br_netfilter").changed
    assert runner.configure_module_on_boot(conn, facts, "br_netfilter").changed
    listed = sh(conn, "grep -lx br_netfilter /etc/modules-load.d/*.conf").split()
    assert "/etc/modules-load.d/hostkit-br_netfilter.conf" in listed
    assert not runner.configure_module_on_boot(conn, facts, "br_netfilter").changed

    sh(conn, "sysctl -qw net.bridge.bridge-nf-call-iptables=0")
    assert runner.set_sysctl(conn, facts, "net.bridge.bridge-nf-call-iptables", 1).changed
    assert sh(conn, "sysctl -n net.bridge.bridge-nf-call-iptables").strip() == "1"
    assert not runner.set_sysctl(conn, facts, "net.bridge.bridge-nf-call-iptables", 1).changed

    # a persistent sysctl outside the network namespace
    sh(conn, "sysctl -qw vm.swappiness=60")
    assert runner.set_sysctl(conn, facts, "vm.swappiness", 10, persistent=True).changed
    assert sh(conn, "cat /proc/sys/vm/swappiness").strip() == "10"
    assert "vm.swappiness" in sh(conn, "cat /etc/sysctl.d/*.conf")
    assert not runner.set_sysctl(conn, facts, "vm.swappiness", 10, persistent=True).changed

    # a filesystem on the spare disk, mounted now and from fstab
    conn.run("umount %s", DEVICE)
    sh(conn, "sed -i '\\#^/dev/vdb #d' /etc/fstab && wipefs -aq %s", DEVICE)
    assert runner.make_filesystem(conn, DEVICE, "ext4").changed
    assert sh(conn, "blkid -o value -s TYPE %s", DEVICE).strip() == "ext4"
    assert not runner.make_filesystem(conn, DEVICE, "ext4").changed
    assert runner.ensure_mount(conn, DEVICE, MOUNTPOINT, "ext4", persistent=True).changed
    assert sh(conn, "findmnt -no SOURCE,FSTYPE %s", MOUNTPOINT).split() == [DEVICE, "ext4"]
    assert len(live_fstab_lines(conn, MOUNTPOINT)) == 1
    assert not runner.ensure_mount(conn, DEVICE, MOUNTPOINT, "ext4", persistent=True).changed
    sh(conn, "echo kept > %s/marker", MOUNTPOINT)

    # a time zone other than the one the VM has
    sh(conn, "ln -sfn /usr/share/zoneinfo/Etc/UTC /etc/localtime && echo Etc/UTC > /etc/timezone")
    assert sh(conn, "readlink -f /etc/localtime").strip() != f"/usr/share/zoneinfo/{ZONE}"
    assert runner.set_timezone(conn, facts, ZONE).changed
    assert sh(conn, "readlink -f /etc/localtime").strip() == f"/usr/share/zoneinfo/{ZONE}"
    assert sh(conn, "date +%Z").strip() == "-03"
    assert not runner.set_timezone(conn, facts, ZONE).changed


def _after_reboot(conn) -> None:
    assert active_swaps(conn) == []
    assert "br_netfilter" in sh(conn, "cut -d' ' -f1 /proc/modules").split()
    assert sh(conn, "sysctl -n net.bridge.bridge-nf-call-iptables").strip() == "1"
    assert sh(conn, "cat /proc/sys/vm/swappiness").strip() == "10"
    assert sh(conn, "findmnt -no SOURCE,FSTYPE %s", MOUNTPOINT).split() == [DEVICE, "ext4"]
    assert sh(conn, "cat %s/marker", MOUNTPOINT).strip() == "kept"
    assert sh(conn, "readlink -f /etc/localtime").strip() == f"/usr/share/zoneinfo/{ZONE}"
    assert sh(conn, "date +%Z").strip() == "-03"
