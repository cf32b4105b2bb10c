"""The catalog end to end on the VM: broken host, failing checks, --fix, fixed, then no change.

On a Debian 13 VM: the kernel's part of the kubernetes-node profile (swap, modules,
sysctls) proven on the release with no /etc/sysctl.conf, at no cost of its own (the VM
lane's Debian 13 worker boots that VM for its modules anyway); test_hardened_vm.py adds
the cgroup verdicts after its reboot.
"""

from __future__ import annotations

import pytest

from tests.hosts import compliance

# A node before `kubeadm join`: its ports must be free, so the port fix is in play.
PROFILE = ("--profile", "kubernetes-preflight-worker")
# What break_host breaks, alone: not the kubelet's swap cross-check (no kubelet here) nor
# bridge-nf-call, which the profile's Kubernetes 1.35 skips (kubeadm dropped it in 1.30).
SELECT = (
    "swap_off or module_loaded or port_free"
    " or (sysctl and not kernel_defaults and not installer and not bridge_nf_call)"
)
LISTEN = (
    "import socket, time; s = socket.socket(); "
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
    "s.bind(('0.0.0.0', 10250)); s.listen(); time.sleep(10**9)"
)
SQUATTER = f"""[Unit]
Description=Holds the kubelet port, so that a check has something to find
[Service]
ExecStart=/usr/bin/python3 -c "{LISTEN}"
[Install]
WantedBy=multi-user.target
"""

pytestmark = [pytest.mark.hosts, pytest.mark.release(13)]


def break_host(conn) -> None:
    conn.run(
        "fallocate -l 32M /hk-swapfile && chmod 600 /hk-swapfile && mkswap -q /hk-swapfile"
        " && swapon /hk-swapfile && echo '/hk-swapfile none swap sw 0 0' >> /etc/fstab"
    ).check()
    conn.run("modprobe -r br_netfilter 2>/dev/null; sysctl -q -w net.ipv4.ip_forward=0").check()
    conn.put(SQUATTER.encode(), "/etc/systemd/system/hk-squatter.service")
    conn.run("systemctl daemon-reload && systemctl enable --now hk-squatter.service").check()
    conn.run(
        "for i in $(seq 50); do ss -Hltn 'sport = :10250' | grep -q . && exit 0; sleep 0.1; done;"
        " exit 1"
    ).check()


def test_broken_vm_fails_then_fix_repairs_then_second_fix_changes_nothing(vm, tmp_path):
    with vm.connect() as conn:
        assert conn.run(". /etc/os-release && echo $VERSION_ID").stdout.strip() == "13"
        break_host(conn)

    before = compliance.run(vm, tmp_path, "check", *PROFILE, select=SELECT)
    failing = before.failing()
    for wanted in ("test_swap_off", "test_module_loaded", "test_sysctl", "test_port_free"):
        assert any(name.startswith(wanted) for name in failing), (wanted, before.cases)

    # Freeing the port stops a service: high disruption, so it has to be asked for; swap
    # is a warning check, whose fix runs only under --strict.
    fix = ("--fix", "--max-disruption=high", "--strict")
    fixed = compliance.run(vm, tmp_path, "fix", *PROFILE, *fix, select=SELECT)
    for name in failing:
        assert fixed.cases[name].outcome == "fixed", (name, fixed.cases[name])
        assert fixed.cases[name].fixes, name
    assert fixed.ret == 0

    again = compliance.run(vm, tmp_path, "again", *PROFILE, *fix, select=SELECT)
    assert {c.outcome for c in again.cases.values()} == {"passed"}, again.cases
    assert not any(c.fixes for c in again.cases.values())
    assert "fixes applied" not in again.output

    with vm.connect() as conn:  # independent reads of what the fixes did
        assert conn.run("swapon --noheadings --show").stdout.strip() == ""
        assert conn.run("grep -E '^[^#].*[[:space:]]swap[[:space:]]' /etc/fstab").rc == 1
        assert conn.run("grep -qw br_netfilter /proc/modules").ok
        assert conn.run("sysctl -n net.ipv4.ip_forward").stdout.strip() == "1"
        assert conn.run("ss -Hltn 'sport = :10250'").stdout.strip() == ""
        assert conn.run("systemctl is-enabled hk-squatter.service").stdout.strip() == "disabled"
