"""A dry run's plan reads as what would happen: the runner's summaries (past tense, as a
fix that ran reports them) put in the conditional, clause by clause."""

from __future__ import annotations

import pytest

from kit.plugin.tense import conditional


@pytest.mark.parametrize(
    "done,planned",
    [
        ("installed iptables", "would install iptables"),
        (
            "iptables from iptables: installed iptables",
            "iptables from iptables: would install iptables",
        ),
        (
            "/etc/sysctl.d/99-zz-hostkit.conf: created, mode 644",
            "/etc/sysctl.d/99-zz-hostkit.conf: would be created, mode 644",
        ),
        ("/etc/hosts: content updated", "/etc/hosts: content would be updated"),
        (
            "swap disabled: swapoff (/swapfile); swap.target masked (was enabled)",
            "swap would be disabled: swapoff (/swapfile); "
            "swap.target would be masked (was enabled)",
        ),
        (
            "containerd from containerd: installed containerd; /etc/containerd/config.toml: "
            "CRI plugin enabled (over `containerd config default`)",
            "containerd from containerd: would install containerd; /etc/containerd/config.toml: "
            "CRI plugin would be enabled (over `containerd config default`)",
        ),
        ("password of deploy set", "password of deploy would be set"),
        ("removed nftables ufw", "would remove nftables ufw"),
        # Nothing in the past tense: left as it is.
        ("net.ipv4.ip_forward: 0 -> 1 (live)", "net.ipv4.ip_forward: 0 -> 1 (live)"),
        ("runc uses the systemd cgroup driver", "runc uses the systemd cgroup driver"),
    ],
)
def test_a_summary_in_the_conditional(done, planned):
    assert conditional(done) == planned


def test_already_conditional_is_left_alone():
    assert conditional("would install iptables") == "would install iptables"
