"""Clock synchronisation."""

from __future__ import annotations

from kit.remediation import Target, remediation
from kit.runner import system
from kit.runner.change import Change


@remediation(reboot=False, strategy="enable", disruption="low")
def sync_time(target: Target) -> Change:
    return system.sync_time(target.conn, target.facts, dry_run=target.dry_run)
