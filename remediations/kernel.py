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
    never=(
        "modules already loaded or built into the kernel; other modules-load.d files; "
        "modprobe.d lines about other modules; modprobe.d files outside /etc/modprobe.d"
    ),
)
def load_module(target: Target, module: str) -> Change:
    """Load the module now and list it in /etc/modules-load.d for every boot; a module
    built into the kernel needs neither.

    systemd-modules-load loads at boot with libkmod's blacklist applied and install
    commands run, so a `blacklist NAME` or `install NAME /bin/false` line in modprobe.d
    would leave the module out at the next boot though `modprobe` loads it now: such a
    line in /etc/modprobe.d is commented out (`# hostkit: so that NAME loads at boot:`),
    the file saved and journaled like every file change; one in another directory (a
    package's file) is refused, naming the file and line.
    """
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
