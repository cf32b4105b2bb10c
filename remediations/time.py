"""Clock synchronisation."""

from __future__ import annotations

from kit.remediation import Target, remediation
from kit.runner import system
from kit.runner.change import Change


@remediation(
    reboot=False,
    strategy="enable",
    disruption="medium",
    never="the time servers already configured",
)
def sync_time(target: Target) -> Change:
    """Enable and start chrony or systemd-timesyncd, and step a clock that is off.

    Medium disruption: a clock stepped under running workloads moves their timers and
    certificate checks.
    """
    return system.sync_time(target.conn, target.facts, dry_run=target.dry_run)
