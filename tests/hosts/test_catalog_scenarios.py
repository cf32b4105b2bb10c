"""Catalog scenarios on disposable hosts, in the manner of ComplianceAsCode's pass/fail cases.

Each scenario puts a host in a failing state, sees the check fail (naming what is
wrong), repairs it with --fix, and sees a second --fix change nothing. The VM's
fixes must also survive a reboot.

firewalld's scenarios run on a container of this module's own (`container`): firewalld
installs, starts, stops and is disabled there as on the VM (its nftables rules live in
the container's network namespace), without the VM's emulation.
"""

from __future__ import annotations

import pytest

import kit.runner
from kit.testhosts import ready
from tests.hosts import compliance, standins
from tests.hosts.conftest import VM_REBOOT_TIMEOUT

pytestmark = pytest.mark.hosts

FSTAB_SWAP = "/hk-half-swap none swap sw 0 0"


def fail_fix_settle(host, tmp_path, select: str, expect: dict[str, str], *fix_args: str) -> None:
    """expect: test-name prefix -> a fragment the failure message must contain."""
    before = compliance.run(host, tmp_path, "before", select=select)
    for prefix, fragment in expect.items():
        names = [n for n in before.failing() if n.startswith(prefix)]
        assert names, (prefix, before.cases)
        assert any(fragment in before.cases[n].message for n in names), (
            prefix,
            [before.cases[n].message for n in names],
        )
    fixed = compliance.run(host, tmp_path, "fix", "--fix", *fix_args, select=select)
    for name in before.failing():
        assert fixed.cases[name].outcome == "fixed", (name, fixed.cases[name])
    again = compliance.run(host, tmp_path, "again", "--fix", *fix_args, select=select)
    assert again.failing() == set(), again.cases
    assert not any(c.fixes for c in again.cases.values())


def test_live_right_but_boot_wrong_names_the_boot_half(vm, tmp_path):
    with vm.connect() as conn:
        kit.runner.load_module(conn, None, "br_netfilter")  # the sysctls below need it
        conn.run(
            "sysctl -q -w net.ipv4.ip_forward=1; "
            "rm -f /etc/sysctl.d/99-zz-hostkit.conf /etc/modules-load.d/hostkit-br_netfilter.conf; "
            f"echo '{FSTAB_SWAP}' >> /etc/fstab"
        ).check()
    fail_fix_settle(
        vm,
        tmp_path,
        "swap or (module and br_netfilter) or (sysctl and ip_forward)",
        {
            "test_swap_off": "/etc/fstab turns swap on at boot",
            "test_module_loaded[": "not configured to load at boot",
            "test_sysctl[": "boot sets nothing",
        },
        "--strict",  # swap is a warning check: its fix runs only when asked
    )


def test_boot_right_but_live_wrong_names_the_live_half(vm, tmp_path):
    with vm.connect() as conn:
        kit.runner.set_sysctl(conn, None, "net.ipv4.ip_forward", "1", persistent=True)
        conn.run("sysctl -q -w net.ipv4.ip_forward=0").check()
    fail_fix_settle(vm, tmp_path, "sysctl and ip_forward", {"test_sysctl[": "is 0 now, want 1"})


def test_executables_and_hostname_on_a_container(containers, tmp_path):
    host = containers[0]
    with host.connect() as conn:
        name = conn.run("hostname").stdout.strip()
        conn.run(
            "apt-get remove -y -qq socat ethtool ebtables >/dev/null 2>&1;"
            " sed -i '/^127.0.1.1/d' /etc/hosts"
        ).check()
        # A node has a default route, whose address kubeadm takes for the node's own; the
        # disposable containers' veth has none until one is given.
        conn.run("ip -4 route show default | grep -q . || ip route add default dev eth0").check()
    fail_fix_settle(
        host,
        tmp_path,
        "executable or hostname",
        {"test_executable_recommended": "not found", "test_hostname": "does not resolve"},
        "--strict",  # the host name check is a warning check
    )
    with host.connect() as conn:  # independent reads
        assert conn.run("command -v socat && command -v ebtables && command -v ethtool").ok
        # The node name maps to the node's own address, not to loopback.
        resolved = conn.run("getent hosts %s", name).check().stdout.split()[0]
        own = conn.run("ip -4 route get 192.0.2.1").check().stdout
        assert resolved in own.split() and not resolved.startswith("127."), (resolved, own)


# A line an installer left in /etc/sysctl.conf against the profile's value, the one file
# hostkit never edits.
SYSCTL_CONF_OPPOSITE = "net.ipv4.ip_forward=0"


def test_sysctl_conf_setting_the_opposite_loses_to_the_fix_at_boot(vm, tmp_path):
    # Debian's /etc/sysctl.conf is read through /etc/sysctl.d/99-sysctl.conf; the fix's
    # drop-in, 99-zz-hostkit.conf, sorts after it, so systemd-sysctl applies the fix's
    # value last, and /etc/sysctl.conf (procps' and the installers') is never edited.
    # That boot applies it so is proven by the whole-profile scenario's reboot, whose
    # broken host has the same line.
    with vm.connect() as conn:
        kit.runner.load_module(conn, None, "br_netfilter")
        conn.run(
            "test -L /etc/sysctl.d/99-sysctl.conf"
            " && rm -f /etc/sysctl.d/99-zz-hostkit.conf"
            " && printf '%%s\\n' %s >> /etc/sysctl.conf"
            " && sysctl -q -w net.ipv4.ip_forward=1",
            SYSCTL_CONF_OPPOSITE,
        ).check()
        conf_before = conn.run("cat /etc/sysctl.conf").check().stdout
    try:
        fail_fix_settle(
            vm,
            tmp_path,
            "sysctl and ip_forward",
            {"test_sysctl[": "boot sets 0 (/etc/sysctl.d/99-sysctl.conf)"},
        )
        with vm.connect() as conn:  # independent reads
            assert conn.run("test -L /etc/sysctl.d/99-sysctl.conf").ok
            assert conn.run("cat /etc/sysctl.conf").check().stdout == conf_before
            drop_in = conn.run("cat /etc/sysctl.d/99-zz-hostkit.conf").check().stdout
            assert "net.ipv4.ip_forward = 1" in drop_in.splitlines(), drop_in
    finally:
        with vm.connect() as conn:  # the VM is shared: later modules read the image's file
            conn.run("sed -i %s /etc/sysctl.conf", f"/^{SYSCTL_CONF_OPPOSITE}$/d").check()


def test_a_swap_unit_and_a_noauto_line(vm, tmp_path):
    with vm.connect() as conn:
        conn.run(
            "systemctl unmask swap.target"
            " && fallocate -l 64M /hk-unit-swap && chmod 600 /hk-unit-swap"
            " && mkswap -q /hk-unit-swap"
            " && printf '[Swap]\\nWhat=/hk-unit-swap\\n[Install]\\nWantedBy=swap.target\\n'"
            " > '/etc/systemd/system/hk\\x2dunit\\x2dswap.swap'"
            " && systemctl daemon-reload && systemctl enable -q 'hk\\x2dunit\\x2dswap.swap'"
            " && echo '/hk-noauto-swap none swap sw,noauto 0 0' >> /etc/fstab"
        ).check()
    fail_fix_settle(
        vm, tmp_path, "swap", {"test_swap_off": "swap units come back at boot"}, "--strict"
    )
    with vm.connect() as conn:  # independent reads
        assert conn.run("systemctl is-enabled swap.target").stdout.strip() == "masked"
        assert "\n/hk-noauto-swap none swap sw,noauto 0 0" in conn.run("cat /etc/fstab").stdout
        # The VM is shared: the next module counts fstab's swap lines.
        conn.run("sed -i '\\#^/hk-noauto-swap #d' /etc/fstab").check()


def test_enabled_but_stopped_firewalld_is_disabled(container, tmp_path):
    with container.connect() as conn:
        conn.run(
            "apt-get update -qq && apt-get install -y -qq firewalld >/dev/null"
            " && systemctl enable firewalld && systemctl stop firewalld",
            env={"DEBIAN_FRONTEND": "noninteractive"},
            timeout=600,
        ).check()
    fail_fix_settle(
        container,
        tmp_path,
        "firewalld",
        {"test_firewalld_inactive": "stopped but enabled"},
        "--max-disruption=high",
        "--strict",  # firewalld's check is a warning check
    )
    with container.connect() as conn:  # independent reads
        assert conn.run("systemctl is-enabled firewalld").stdout.strip() == "disabled"


def test_no_time_daemon_gets_one_installed(vm, tmp_path):
    with vm.connect() as conn:
        # Package lists as a Debian host has them (the image ships none): the fix installs
        # the daemon from them. This used to come from the firewalld scenarios' own
        # `apt-get update`, run before this one on the same VM.
        conn.run("apt-get update -qq", timeout=600).check()
        conn.run(
            "apt-get remove -y -qq systemd-timesyncd chrony >/dev/null 2>&1; true",
            env={"DEBIAN_FRONTEND": "noninteractive"},
            timeout=600,
        ).check()
    # A warning check: --check names it, so its fix runs under a plain --fix.
    only = "--check=k8s.time.synchronized"
    before = compliance.run(vm, tmp_path, "before", only)
    (case,) = before.cases.values()
    assert "no time synchronisation service" in case.message, case
    # The disposable hosts reach no time server: the daemon runs, the clock may not sync.
    compliance.run(vm, tmp_path, "fix", "--fix", "--max-disruption=medium", only)
    with vm.connect() as conn:  # independent reads
        assert conn.run("dpkg-query -W systemd-timesyncd").ok
        assert conn.run("systemctl is-enabled systemd-timesyncd").stdout.strip() == "enabled"
        assert conn.run("systemctl is-active systemd-timesyncd").stdout.strip() == "active"
    again = compliance.run(vm, tmp_path, "again", "--fix", "--max-disruption=medium", only)
    assert not any(c.fixes for c in again.cases.values()), again.cases


def test_active_firewalld_is_stopped_and_stays_off(container, tmp_path):
    with container.connect() as conn:
        conn.run(
            "apt-get update -qq && apt-get install -y -qq firewalld >/dev/null"
            " && systemctl enable --now firewalld",
            env={"DEBIAN_FRONTEND": "noninteractive"},
            timeout=600,
        ).check()
    held = compliance.run(container, tmp_path, "held", "--fix", select="firewalld")
    (case,) = held.cases.values()
    assert "fix needs --max-disruption=high: firewalld" in case.message, case
    fail_fix_settle(
        container,
        tmp_path,
        "firewalld",
        {"test_firewalld_inactive": "firewalld is active"},
        "--max-disruption=high",
        "--strict",
    )
    with container.connect() as conn:  # independent reads
        assert conn.run("systemctl is-active firewalld").stdout.strip() != "active"
        assert conn.run("systemctl is-enabled firewalld").stdout.strip() == "disabled"


def test_whole_profile_fixed_on_the_vm_survives_a_reboot(vm, tmp_path):
    # What hostkit prepares is a node about to join: the preflight profile, whole. The
    # kubelet package it expects installed comes from a repository not reachable here.
    with vm.connect() as conn:
        standins.install_kubelet(conn, "1.35.0")
        # An installer's /etc/sysctl.conf against the profile: the fix's drop-in sorts
        # after it, and this reboot proves boot applies the drop-in's value last.
        conn.run(
            "sysctl -q -w net.ipv4.ip_forward=0 && printf '%%s\\n' %s >> /etc/sysctl.conf",
            SYSCTL_CONF_OPPOSITE,
        ).check()
        conf_before = conn.run("cat /etc/sysctl.conf").check().stdout
    profile = ("--profile", "kubernetes-preflight-worker")
    # --strict: the warning checks' fixes (swap among them) run too.
    first = compliance.run(vm, tmp_path, "fix", *profile, "--fix", "--strict")
    # The disposable hosts reach no time server, so time sync stays a warning whose
    # remediation may act again (and fails a --strict run); every other check must be
    # fixed, and settled.
    left = {
        n: c.outcome
        for n, c in first.cases.items()
        if n in first.failing() and "time_synchronized" not in n
    }
    assert left == {}, first.output
    second = compliance.run(vm, tmp_path, "again", *profile, "--fix", "--strict")
    unsettled = {n for n, c in second.cases.items() if c.fixes and "time_synchronized" not in n}
    assert unsettled == set(), second.cases
    with vm.connect() as conn:
        kit.runner.reboot(conn, timeout=VM_REBOOT_TIMEOUT, accept_disconnect=True)
    ready.wait(vm, VM_REBOOT_TIMEOUT)
    with vm.connect() as conn:  # independent reads of what boot did
        assert conn.run("cat /etc/sysctl.conf").check().stdout == conf_before
        assert conn.run("sysctl -n net.ipv4.ip_forward").stdout.strip() == "1"
    after = compliance.run(vm, tmp_path, "after-reboot", *profile)
    with vm.connect() as conn:  # the VM is shared: later scenarios see the image's files
        conn.run("sed -i %s /etc/sysctl.conf", f"/^{SYSCTL_CONF_OPPOSITE}$/d").check()
        # An installed kubelet decides the cgroup verdicts' Kubernetes version.
        standins.remove_kubelet(conn)
    assert after.ret == 0, after.output
    hard = {n: c.outcome for n, c in after.cases.items() if c.outcome in ("failed", "error")}
    assert hard == {}
    kernel = (
        "test_swap_off",
        "test_module_loaded",
        "test_sysctl[",
        "test_sysctl_kernel_defaults",
        "test_sysctl_installer",
        "test_port_free",
    )
    for prefix in kernel:
        assert after.outcome_of(prefix) == {"passed"}, (prefix, after.cases)
    # kubeadm dropped bridge-nf-call from its preflight in 1.30: skipped for 1.35.
    assert after.outcome_of("test_sysctl_bridge_nf_call") == {"skipped"}, after.cases
