"""Swap, kernel modules and sysctls: runtime state and what the next boot will do."""

from __future__ import annotations

from kit.remediation import Target, remediation
from kit.runner import kernel, swap
from kit.runner.change import Change


@remediation(reboot=False, strategy="disable", disruption="medium")
def disable_swap(target: Target) -> Change:
    return swap.disable_swap(target.conn, target.facts, dry_run=target.dry_run)


@remediation(reboot=False, strategy="enable", disruption="low")
def load_module(target: Target, module: str) -> Change:
    return kernel.load_module(
        target.conn, target.facts, module, persistent=True, dry_run=target.dry_run
    )


@remediation(reboot=False, strategy="configure", disruption="low")
def set_sysctl(target: Target, key: str, value: str) -> Change:
    return kernel.set_sysctl(
        target.conn, target.facts, key, value, persistent=True, dry_run=target.dry_run
    )
