"""Swap, kernel modules and sysctls: runtime state and what the next boot will do."""

from __future__ import annotations

from kit.remediation import Target, remediation
from kit.runner import kernel, swap
from kit.runner.change import Change


@remediation(
    reboot=False,
    strategy="disable",
    disruption="medium",
    never="swap files and partitions themselves; fstab lines that are not swap",
)
def disable_swap(target: Target) -> Change:
    """Turn swap off now (swapoff) and at boot (fstab lines commented, swap.target masked).

    Medium disruption: pages in swap come back into memory, which a host short of
    memory may not have.
    """
    return swap.disable_swap(target.conn, target.facts, dry_run=target.dry_run)


@remediation(
    reboot=False,
    strategy="enable",
    disruption="low",
    never="modules already loaded; other modules-load.d files",
)
def load_module(target: Target, module: str) -> Change:
    """Load the module now and list it in /etc/modules-load.d for every boot."""
    return kernel.load_module(
        target.conn, target.facts, module, persistent=True, dry_run=target.dry_run
    )


@remediation(
    reboot=False,
    strategy="configure",
    disruption="low",
    never="other keys; any sysctl file but its own in /etc/sysctl.d",
)
def set_sysctl(target: Target, key: str, value: str) -> Change:
    """Set the kernel parameter now and in /etc/sysctl.d for every boot."""
    return kernel.set_sysctl(
        target.conn, target.facts, key, value, persistent=True, dry_run=target.dry_run
    )
