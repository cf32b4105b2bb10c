"""Swap, kernel modules and sysctls: runtime state and what the next boot will do."""

from __future__ import annotations

from hostkit_catalog.remediations.sysctl import explains_drop_in
from kit.catalog.remediation import Target, remediation
from kit.runner import kernel, swap
from kit.runner.change import Change


@remediation(
    reboot=False,
    persists=True,
    strategy="disable",
    disruption="medium",
    never="swap files and partitions themselves; fstab lines that are not swap or are noauto",
)
def disable_swap(target: Target) -> Change:
    """Turn swap off now (swapoff) and at boot: fstab's swap lines commented (not noauto
    ones), swap.target masked so no swap unit, GPT auto-swap or zram device comes back.

    Medium disruption: pages in swap come back into memory, which a host short of
    memory may not have.
    """
    return swap.disable_swap(target.conn, target.facts, dry_run=target.dry_run)


@remediation(
    reboot=False,
    persists=True,
    strategy="enable",
    disruption="low",
    never="modules already loaded or built into the kernel; other modules-load.d files",
)
def load_module(target: Target, module: str) -> Change:
    """Load the module now and list it in /etc/modules-load.d for every boot; a module
    built into the kernel needs neither."""
    return kernel.load_module(
        target.conn, target.facts, module, persistent=True, dry_run=target.dry_run
    )


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="low",
    never="other keys; a value already at or above a floor; every file but the drop-in",
)
@explains_drop_in
def set_sysctl(target: Target, key: str, value: str) -> Change:
    """Set the kernel parameter now and in the drop-in for every boot."""
    return kernel.set_sysctl(
        target.conn, target.facts, key, value, persistent=True, dry_run=target.dry_run
    )
