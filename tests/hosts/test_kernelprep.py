"""Kernel preparation on disposable hosts: the checks on containers, the fixes on the VM.

The containers' /proc/sys is mounted read-only as a whole (systemd-nspawn given a network
namespace by path does not count it as private networking, so even net.* stays read-only:
`sysctl -w` answers "permission denied" for net.ipv6.conf.all.forwarding,
net.ipv4.ip_local_reserved_ports, net.core.somaxconn, fs.inotify.*, vm.*, kernel.*,
measured). On a container the sysctl groups are therefore checked for real, and their fix
is seen to fail cleanly; fail -> fix -> pass -> no change, and surviving a reboot, are VM
scenarios. The VM boots through GRUB, so kernel command-line fixes made through
/etc/default/grub and update-grub are what its next boot gets.
"""

from __future__ import annotations

import pytest

import kit.runner
from kit.testhosts import ready
from tests.hosts import compliance
from tests.hosts.conftest import VM_REBOOT_TIMEOUT

pytestmark = pytest.mark.hosts

RESERVED = "net.ipv4.ip_local_reserved_ports"
PROFILE = """name: kernelprep-containers
extends: kubernetes-node
checks: [k8s.sysctl.dual-stack, k8s.sysctl.installer]
params:
  sysctls_dual_stack:
    net.ipv6.conf.all.forwarding: "1"
    net.ipv6.conf.default.forwarding: "1"
  sysctls_installer:
    net.ipv4.ip_local_reserved_ports: "includes 30000-32767"
"""


def _profile(tmp_path, text: str) -> str:
    path = tmp_path / "kernelprep.yaml"
    path.write_text(text)
    return f"--profile={path}"


def test_sysctl_groups_fail_on_a_container_and_the_fix_leaves_it_unchanged(containers, tmp_path):
    host = containers[-1]
    args = (_profile(tmp_path, PROFILE),)
    with host.connect() as conn:
        before_conf = conn.run("cat /etc/sysctl.d/99-zz-hostkit.conf 2>/dev/null; true").stdout
    before = compliance.run(host, tmp_path, "before", *args)
    messages = {n: c.message for n, c in before.cases.items() if n in before.failing()}
    # The containers forward no IPv6, and reserve no port: an empty value, which the
    # facts' grep of /proc/sys leaves out, is read on its own.
    assert any(
        "net.ipv6.conf.default.forwarding is 0 now, want 1" in m for m in messages.values()
    ), before.cases
    assert any(
        f"{RESERVED} is (empty) now, want a list including 30000-32767" in m
        for m in messages.values()
    ), before.cases
    assert len(messages) == 3, before.cases

    # --strict: the installer's sysctls are a warning check, whose fix runs only when asked.
    fixed = compliance.run(host, tmp_path, "fix", "--fix", "--strict", *args)
    for name in messages:
        case = fixed.cases[name]
        assert case.outcome != "fixed", (name, case)
        assert "fix failed at sysctl" in case.message, (name, case)
        assert "host unchanged" in case.message, (name, case)
    with host.connect() as conn:  # independent reads
        after_conf = conn.run("cat /etc/sysctl.d/99-zz-hostkit.conf 2>/dev/null; true").stdout
        assert after_conf == before_conf
        assert conn.run("sysctl -n %s", RESERVED).check().stdout.strip() == ""


READ_ONLY = """name: kernelprep-read-only
extends: kubernetes-node
checks: [k8s.kernel.version, k8s.kernel.config.required, k8s.disk.free, k8s.cgroup.controllers]
params:
  cgroup_controllers: [cpu, cpuacct, cpuset, devices, freezer, memory, pids, hk_absent]
  disk_free:
    /var/lib/kubelet: "1%"
    /var/lib/containerd: "100%"
"""


def test_kernel_release_config_and_disk_space_on_a_container(containers, tmp_path):
    host = containers[0]
    with host.connect() as conn:  # independent reads: what the checks must find
        release = conn.run("uname -r").check().stdout.strip()
        configs = conn.run(
            "for p in /proc/config.gz /boot/config-$(uname -r); do [ -e $p ] && echo $p; done"
        ).stdout.split()
    run = compliance.run(host, tmp_path, "read-only", _profile(tmp_path, READ_ONLY))
    config_cases = {n: c for n, c in run.cases.items() if n.startswith("test_kernel_config")}
    assert len(config_cases) >= 16, run.cases
    if configs:
        # The host kernel's own config; a container shares it.
        assert run.outcome_of("test_kernel_config_required") <= {"passed", "skipped"}, run.cases
    else:
        assert all("no kernel config in" in c.message for c in config_cases.values())
    version = next(c for n, c in run.cases.items() if n.startswith("test_kernel_version"))
    assert version.outcome in ("passed", "warning"), version
    if version.outcome == "warning":
        assert release in version.message, version
    disk = {n: c for n, c in run.cases.items() if n.startswith("test_disk_free")}
    assert len(disk) == 2, run.cases
    by_path = {("kubelet" if "kubelet" in n else "containerd"): c for n, c in disk.items()}
    assert by_path["kubelet"].outcome == "passed", by_path
    assert by_path["containerd"].outcome == "warning", by_path
    message = by_path["containerd"].message
    assert "/var/lib/containerd" in message and "want at least 100%" in message, by_path
    # The containers mount cgroup v1 controllers (a tmpfs at /sys/fs/cgroup) and boot
    # through no bootloader of their own: the next boot's command line is unknown.
    cgroups = {
        n.split("-")[-1].rstrip("]"): c
        for n, c in run.cases.items()
        if n.startswith("test_cgroup_controller")
    }
    assert {k for k, c in cgroups.items() if c.outcome == "passed"} == {
        "cpu",
        "cpuacct",
        "cpuset",
        "devices",
        "freezer",
        "memory",
        "pids",
    }, cgroups
    absent = cgroups["hk_absent"]
    assert absent.outcome == "failed", absent
    assert "hk_absent controller is missing now (cgroup v1, /proc/cgroups:" in absent.message
    assert "the next boot's command line is unknown" in absent.message, absent


def test_vm_sysctl_groups_fail_fix_pass_and_survive_a_reboot(vm, tmp_path):
    """VM ONLY, NOT RUN HERE (the VM takes both cores): fail -> --fix -> pass -> --fix
    changes nothing -> reboot -> pass, for the three sysctl groups, with someone else's
    reserved port kept."""
    profile = PROFILE.replace(
        "checks: [k8s.sysctl.dual-stack, k8s.sysctl.installer]",
        "checks: [k8s.sysctl.dual-stack, k8s.sysctl.kernel-defaults, k8s.sysctl.installer]",
    ).replace(
        '    net.ipv4.ip_local_reserved_ports: "includes 30000-32767"\n',
        '    net.ipv4.ip_local_reserved_ports: "includes 30000-32767"\n'
        '    fs.inotify.max_user_watches: ">=524288"\n',
    )
    args = (_profile(tmp_path, profile),)
    with vm.connect() as conn:
        conn.run(
            "rm -f /etc/sysctl.d/99-zz-hostkit.conf"
            " && sysctl -q -w net.ipv6.conf.all.forwarding=0"
            " && sysctl -q -w net.ipv6.conf.default.forwarding=0"
            f" && sysctl -q -w {RESERVED}=8080"
            " && sysctl -q -w vm.overcommit_memory=0 && sysctl -q -w kernel.panic=0"
            " && sysctl -q -w fs.inotify.max_user_watches=8192"
        ).check()
    before = compliance.run(vm, tmp_path, "before", *args)
    failing = before.failing()
    assert any(f"{RESERVED} is 8080 now" in before.cases[n].message for n in failing)
    # --strict: the installer's sysctls are a warning check, whose fix runs only when asked.
    fixed = compliance.run(vm, tmp_path, "fix", "--fix", "--strict", *args)
    for name in failing:
        assert fixed.cases[name].outcome == "fixed", (name, fixed.cases[name])
    again = compliance.run(vm, tmp_path, "again", "--fix", "--strict", *args)
    assert again.failing() == set(), again.cases
    assert not any(c.fixes for c in again.cases.values())
    with vm.connect() as conn:
        assert conn.run("sysctl -n %s", RESERVED).check().stdout.strip() == "8080,30000-32767"
        kit.runner.reboot(conn, timeout=VM_REBOOT_TIMEOUT, accept_disconnect=True)
    ready.wait(vm, VM_REBOOT_TIMEOUT)
    after = compliance.run(vm, tmp_path, "after-reboot", *args)
    assert after.failing() == set(), after.cases


BREAK = "/etc/default/grub.d/50-hk-v1-no-hugetlb.cfg"
FORCED = "systemd.unified_cgroup_hierarchy=0"
CGROUPS = """name: kernelprep-cgroups
extends: kubernetes-node
checks: [k8s.cgroup.controllers.optional, k8s.cgroup.v2]
params:
  cgroup_controllers_optional: [hugetlb]
  kubernetes_version: ["1.34"]
"""


def _cases(run: compliance.Run) -> tuple[compliance.Case, compliance.Case]:
    (controller,) = (c for n, c in run.cases.items() if n.startswith("test_cgroup_controller"))
    (v2,) = (c for n, c in run.cases.items() if n.startswith("test_cgroup_v2"))
    return controller, v2


def test_vm_cgroup_controller_through_grub_and_a_reboot(vm, tmp_path):
    """VM ONLY (the VM boots through GRUB, as real hosts do). Two fixes through the
    bootloader share the scenario's two reboots.

    A grub drop-in disables hugetlb and forces cgroup v1 (systemd 252 still honours
    systemd.unified_cgroup_hierarchy=0), update-grub, reboot. Both checks fail, naming the
    boot that did it; --fix edits the drop-ins, runs update-grub and declares a reboot;
    before the reboot both still fail and say a reboot is pending, and a second --fix
    changes nothing; after the reboot both pass. About 9 minutes under TCG: update-grub
    alone takes 45 s in the guest, and it runs four times.
    """
    with vm.connect() as conn:
        # Fails, not skips, on a VM that boots its kernel directly: grub.cfg must be what
        # the next boot reads.
        assert conn.run("cat /proc/cmdline").check().stdout.startswith("BOOT_IMAGE="), (
            "the VM does not boot through GRUB"
        )
        conn.run(
            "printf '%s\\n' 'GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX cgroup_disable=hugetlb"
            f" {FORCED}\"' > {BREAK} && update-grub"
        ).check()
        kit.runner.reboot(conn, timeout=VM_REBOOT_TIMEOUT, accept_disconnect=True)
    ready.wait(vm, VM_REBOOT_TIMEOUT)
    with vm.connect() as conn:  # independent read: systemd 252 booted cgroup v1
        assert conn.run("stat -fc %T /sys/fs/cgroup").check().stdout.strip() == "tmpfs"
    args = (_profile(tmp_path, CGROUPS),)
    before = compliance.run(vm, tmp_path, "before", *args)
    controller, v2 = _cases(before)
    assert "the running kernel was booted with cgroup_disable=hugetlb" in controller.message
    assert "the next boot's command line disables it too" in controller.message, controller
    assert v2.outcome == "warning", v2
    assert f"the running kernel was booted with {FORCED}" in v2.message, v2
    assert f"the next boot's command line keeps v1 too ({FORCED}" in v2.message, v2

    # --strict: both are warning checks, whose fixes run only when asked.
    fixed = compliance.run(vm, tmp_path, "fix", "--fix", "--strict", *args)
    for case in _cases(fixed):
        assert case.fixes, case
        assert case.outcome != "fixed", case  # the running kernel is unchanged
    assert "reboot it to finish" in fixed.output, fixed.output
    with vm.connect() as conn:  # independent reads
        dropin = conn.run("cat %s", BREAK).check().stdout
        assert "cgroup_disable" not in dropin and "systemd.unified" not in dropin, dropin
        cfg = conn.run("cat /boot/grub/grub.cfg").check().stdout
        assert "cgroup_enable=hugetlb" in cfg and FORCED not in cfg

    # --strict: the warnings fail, so the report carries their whole message.
    pending = compliance.run(vm, tmp_path, "pending", "--strict", *args)
    for case in _cases(pending):
        assert case.outcome == "failed", case
        assert "reboot pending" in case.message, case
    again = compliance.run(vm, tmp_path, "again", "--fix", "--strict", *args)
    for case in _cases(again):
        assert not case.fixes, case

    with vm.connect() as conn:
        kit.runner.reboot(conn, timeout=VM_REBOOT_TIMEOUT, accept_disconnect=True)
    ready.wait(vm, VM_REBOOT_TIMEOUT)
    after = compliance.run(vm, tmp_path, "after-reboot", *args)
    assert after.failing() == set(), after.cases
    with vm.connect() as conn:  # independent read, and the VM is shared: clean up
        assert conn.run("stat -fc %T /sys/fs/cgroup").check().stdout.strip() == "cgroup2fs"
        conn.run(f"rm -f {BREAK} /etc/default/grub.d/99-hostkit.cfg && update-grub").check()
