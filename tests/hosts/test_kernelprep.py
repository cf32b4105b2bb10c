"""Kernel preparation on disposable hosts: the checks on containers, the fixes on the VM.

The containers' /proc/sys is mounted read-only as a whole (systemd-nspawn given a network
namespace by path does not count it as private networking, so even net.* stays read-only:
`sysctl -w` answers "permission denied" for net.ipv6.conf.all.forwarding,
net.ipv4.ip_local_reserved_ports, net.core.somaxconn, fs.inotify.*, vm.*, kernel.*,
measured). On a container the sysctl groups are therefore checked for real, and their fix
is seen to fail cleanly; fail -> fix -> pass -> no change, and surviving a reboot, are VM
scenarios. The VM scenarios are written but not run here: the VM boots under TCG and
takes both of the machine's cores.
"""

from __future__ import annotations

import pytest

import kit.runner
from kit.testhosts import ready
from tests.hosts import compliance

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
        before_conf = conn.run("cat /etc/sysctl.d/99-hostkit.conf 2>/dev/null; true").stdout
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

    fixed = compliance.run(host, tmp_path, "fix", "--fix", *args)
    for name in messages:
        case = fixed.cases[name]
        assert case.outcome != "fixed", (name, case)
        assert "fix failed at sysctl" in case.message, (name, case)
        assert "host unchanged" in case.message, (name, case)
    with host.connect() as conn:  # independent reads
        after_conf = conn.run("cat /etc/sysctl.d/99-hostkit.conf 2>/dev/null; true").stdout
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
            "rm -f /etc/sysctl.d/99-hostkit.conf"
            " && sysctl -q -w net.ipv6.conf.all.forwarding=0"
            " && sysctl -q -w net.ipv6.conf.default.forwarding=0"
            f" && sysctl -q -w {RESERVED}=8080"
            " && sysctl -q -w vm.overcommit_memory=0 && sysctl -q -w kernel.panic=0"
            " && sysctl -q -w fs.inotify.max_user_watches=8192"
        ).check()
    before = compliance.run(vm, tmp_path, "before", *args)
    failing = before.failing()
    assert any(f"{RESERVED} is 8080 now" in before.cases[n].message for n in failing)
    fixed = compliance.run(vm, tmp_path, "fix", "--fix", *args)
    for name in failing:
        assert fixed.cases[name].outcome == "fixed", (name, fixed.cases[name])
    again = compliance.run(vm, tmp_path, "again", "--fix", *args)
    assert again.failing() == set(), again.cases
    assert not any(c.fixes for c in again.cases.values())
    with vm.connect() as conn:
        assert conn.run("sysctl -n %s", RESERVED).check().stdout.strip() == "8080,30000-32767"
        kit.runner.reboot(conn, timeout=300, accept_disconnect=True)
    ready.wait(vm, 300)
    after = compliance.run(vm, tmp_path, "after-reboot", *args)
    assert after.failing() == set(), after.cases


BREAK = "/etc/default/grub.d/50-hk-no-hugetlb.cfg"
CONTROLLERS = """name: kernelprep-controllers
extends: kubernetes-node
checks: [k8s.cgroup.controllers.optional]
params:
  cgroup_controllers_optional: [hugetlb]
"""


def test_vm_cgroup_controller_through_grub_and_a_reboot(vm, tmp_path):
    """VM ONLY, NOT RUN HERE (the VM takes both cores), and it needs a VM that boots
    through GRUB: the tier's VM boots its kernel directly (qemu -kernel/-append), where
    the scenario skips, as grub.cfg is not what the next boot reads.

    hugetlb is disabled on the command line and the host rebooted; the check fails naming
    the boot that disabled it; --fix takes it out of the drop-in, adds cgroup_enable, runs
    update-grub and declares a reboot; before the reboot the check still fails and says a
    reboot is pending, and a second --fix changes nothing; after the reboot it passes.
    """
    with vm.connect() as conn:
        if not conn.run("test -f /boot/grub/grub.cfg && command -v update-grub").ok:
            pytest.skip("the VM does not boot through GRUB (qemu -kernel)")
        conn.run(
            f"printf '%s\\n' 'GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX cgroup_disable=hugetlb\"'"
            f" > {BREAK} && update-grub"
        ).check()
        kit.runner.reboot(conn, timeout=300, accept_disconnect=True)
    ready.wait(vm, 300)
    args = (_profile(tmp_path, CONTROLLERS),)
    before = compliance.run(vm, tmp_path, "before", *args)
    (case,) = before.cases.values()
    assert "the running kernel was booted with cgroup_disable=hugetlb" in case.message, case
    assert "the next boot's command line disables it too" in case.message, case

    fixed = compliance.run(vm, tmp_path, "fix", "--fix", *args)
    (case,) = fixed.cases.values()
    assert case.fixes, case
    assert case.outcome != "fixed", case  # the running kernel still lacks it
    assert "reboot pending" in case.message, case
    with vm.connect() as conn:  # independent reads
        assert "cgroup_disable" not in conn.run("cat %s", BREAK).check().stdout
        assert "cgroup_enable=hugetlb" in conn.run("cat /boot/grub/grub.cfg").check().stdout

    again = compliance.run(vm, tmp_path, "again", "--fix", *args)
    (case,) = again.cases.values()
    assert not case.fixes, case
    assert "reboot pending" in case.message, case

    with vm.connect() as conn:
        kit.runner.reboot(conn, timeout=300, accept_disconnect=True)
    ready.wait(vm, 300)
    after = compliance.run(vm, tmp_path, "after-reboot", *args)
    assert after.failing() == set(), after.cases
    with vm.connect() as conn:  # the VM is shared: take the scenario's files away
        conn.run(f"rm -f {BREAK} /etc/default/grub.d/99-hostkit.cfg && update-grub").check()
