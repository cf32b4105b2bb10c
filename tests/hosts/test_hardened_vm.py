"""A hardened host on a Debian 13 VM: module blacklists and `install NAME /bin/false` lines.

modprobe loads a blacklisted module when named, but systemd-modules-load (which loads
/etc/modules-load.d at boot) applies the blacklist, and an `install` line replaces the
load with its command: a check that passes after `modprobe` is wrong at the next boot
(issue 23 item 10). The scenario reboots the VM to prove what boot does. Debian 13 ships
no /etc/sysctl.conf, so the sysctls' persistence is proven there too.
"""

from __future__ import annotations

import pytest

import kit.runner
from kit.testhosts import ready
from tests.hosts import compliance, installers
from tests.hosts.conftest import VM_REBOOT_TIMEOUT
from tests.hosts.verdicts import Fails, Harm, mismatches

pytestmark = [pytest.mark.hosts, pytest.mark.release(13)]

PROFILE = ("--profile", "kubernetes-node")
SELECT = "module_loaded or (sysctl and not kernel_defaults and not installer)"


def test_blacklisted_modules_are_loaded_at_boot_after_the_fix(vm, tmp_path):
    with vm.connect() as conn:
        # the image is what the module says: Debian 13, no /etc/sysctl.conf
        assert conn.run(". /etc/os-release && echo $VERSION_ID").stdout.strip() == "13"
        assert conn.run("test -e /etc/sysctl.conf").rc != 0
        node = installers.hardened(conn)
        conn.run(
            "modprobe -r br_netfilter overlay 2>/dev/null;"
            " rm -f /etc/modules-load.d/hostkit-*.conf; true"
        ).check()
        harm = Harm.before(conn, node)
    try:
        gaps = scenario(vm, tmp_path, harm)
    finally:
        with vm.connect() as conn:  # the VM is shared with the next Debian 13 module
            conn.run("rm -f %s", installers.HARDENING_PATH).check()
    assert not gaps, "\n".join(gaps)


def scenario(vm, tmp_path, harm: Harm) -> list[str]:
    """The verdicts, the fixes, the reboot; every gap from the reference, gathered so
    that the reboot is proven whatever the verdicts say."""
    before = compliance.run(vm, tmp_path, "before", *PROFILE, select=SELECT)
    # A module named by a blacklist or install line is not loaded by boot (item 10).
    gaps = mismatches(
        before,
        {
            "test_module_loaded|-br_netfilter]": Fails(installers.HARDENING_PATH),
            "test_module_loaded|-overlay]": Fails(installers.HARDENING_PATH),
        },
    )
    compliance.run(vm, tmp_path, "fix", "--fix", *PROFILE, select=SELECT)
    again = compliance.run(vm, tmp_path, "again", "--fix", *PROFILE, select=SELECT)
    gaps += [f"after --fix: {n}: {again.cases[n].message[:300]}" for n in sorted(again.failing())]
    gaps += [f"second --fix acted: {n}" for n, c in again.cases.items() if c.fixes]
    with vm.connect() as conn:
        # the blocking lines went, or the fix refused naming the file: either way the
        # file changed only because a check is about it
        harm.assert_unharmed(conn, allowed={installers.HARDENING_PATH})
        kit.runner.reboot(conn, timeout=VM_REBOOT_TIMEOUT, accept_disconnect=True)
    ready.wait(vm, VM_REBOOT_TIMEOUT)
    with vm.connect() as conn:  # independent reads of what boot did
        boot_id = conn.run("cat /proc/sys/kernel/random/boot_id").check().stdout
        assert boot_id  # a fresh boot answered
        modules = conn.run("cat /proc/modules").check().stdout
        loaded = {line.split()[0] for line in modules.splitlines()}
        gaps += [f"after the reboot {m} is not loaded" for m in ("br_netfilter", "overlay")
                 if m not in loaded]  # fmt: skip
        for key in ("net.ipv4.ip_forward", "net.bridge.bridge-nf-call-iptables"):
            value = conn.run("sysctl -n %s", key).stdout.strip()
            if value != "1":
                gaps.append(f"after the reboot {key} is {value!r}, want 1")
    # after the reboot, the kernel's part whole: cgroup v2 (all systemd 257 boots) and swap;
    # not containerd's cgroup driver, a runtime check (this VM has no containerd)
    kernel = f"{SELECT} or (cgroup and not systemd_cgroup) or swap"
    after = compliance.run(vm, tmp_path, "after-reboot", *PROFILE, select=kernel)
    gaps += [f"after the reboot: {n}: {after.cases[n].message[:300]}" for n in after.failing()]
    return gaps
