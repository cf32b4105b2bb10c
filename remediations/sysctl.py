"""Sysctls a profile groups apart, including lists of port ranges."""

from __future__ import annotations

from kit.catalog.remediation import Target, remediation
from kit.runner import kernel
from kit.runner.change import Change


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="low",
    never=(
        "other keys; a value already at or above a floor; ports already reserved (a range "
        "is added to them, never put in their place); vendor files"
    ),
)
def set_sysctl_including(target: Target, key: str, value: str) -> Change:
    """Set the kernel parameter now and in /etc/sysctl.d/99-hostkit.conf for every boot;
    for "includes R", the live list of ranges with R added.

    A later file that would set it against the wanted value at boot has that line
    commented out behind a `# hostkit: overridden by ...` marker, as for k8s.sysctl.
    """
    return kernel.set_sysctl_including(
        target.conn, target.facts, key, value, dry_run=target.dry_run
    )


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="low",
    never="other keys; vendor files",
)
def set_bridge_nf_call(target: Target, version: str) -> Change:
    """Set net.bridge.bridge-nf-call-iptables to 1 now and in /etc/sysctl.d for every
    boot, as kubeadm before 1.30 wants it (the key exists once br_netfilter is loaded:
    k8s.kernel.module runs first)."""
    return kernel.set_sysctl(
        target.conn,
        target.facts,
        "net.bridge.bridge-nf-call-iptables",
        "1",
        dry_run=target.dry_run,
    )
