"""Clock synchronisation."""

from __future__ import annotations

import dataclasses
import time

from kit.catalog.remediation import Target, remediation
from kit.errors import FixRefused
from kit.facts import Facts
from kit.runner import packages, services, system
from kit.runner.change import Change, combine

# ntpd's unit, by distribution: ntpsec (Debian 12), ntp (older Debian, Ubuntu), ntpd (RHEL 7).
NTPD_UNITS = ("ntpsec.service", "ntp.service", "ntpd.service")
TIMESYNCD = "systemd-timesyncd.service"
SYNC_WAIT = 30.0


@remediation(
    reboot=False,
    persists=True,
    strategy="enable",
    disruption="medium",
    never="the time servers already configured; a running ntpd or chrony (kept, not replaced)",
)
def sync_time(target: Target) -> Change:
    """Have a time daemon keep the clock: the one that runs (ntpd or chrony stays), else
    chrony or systemd-timesyncd where installed, else the family's own installed (chrony on
    the RHEL family, systemd-timesyncd on Debian and Ubuntu). Enabled, started, and given
    a bounded wait to synchronise.

    Medium disruption: a clock stepped under running workloads moves their timers and
    certificate checks.
    """
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    if facts.time_sync.service == "ntpd":
        return _keep_ntpd(target)
    steps: list[Change] = []
    chrony = facts.has("chronyc") or facts.time_sync.service == "chronyd"
    timesyncd = TIMESYNCD in facts.unit_states
    if not chrony and not timesyncd:
        if facts.init_system.type != "systemd" and facts.os.family != "rhel":
            raise FixRefused("no time daemon and no systemd: install chrony or ntpd by hand")
        package = "chrony" if facts.os.family == "rhel" else "systemd-timesyncd"
        steps.append(packages.update_package_cache(conn, facts, max_age=24 * 3600, dry_run=dry_run))
        steps.append(packages.install_packages(conn, facts, package, dry_run=dry_run))
        facts = _installed(facts, package)
    steps.append(system.sync_time(conn, facts, dry_run=dry_run))
    if not dry_run:
        _wait_for_sync(target, SYNC_WAIT)
    return combine("time sync", steps, dry_run=dry_run)


def _installed(facts: Facts, package: str) -> Facts:
    """Facts as they are once package is installed: the runner picks its daemon from them."""
    if package == "chrony":
        executables = {**facts.executables, "chronyc": "/usr/bin/chronyc"}
        return dataclasses.replace(facts, executables=executables)
    return dataclasses.replace(facts, unit_states={**facts.unit_states, TIMESYNCD: "enabled"})


def _keep_ntpd(target: Target) -> Change:
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    unit = next((u for u in NTPD_UNITS if u in facts.unit_states), None)
    if unit is None:
        return Change.none("ntpd keeps the clock", dry_run=dry_run)
    return services.enable_service(conn, facts, unit.removesuffix(".service"), dry_run=dry_run)


def _wait_for_sync(target: Target, timeout: float) -> bool:
    """Poll the daemon's own answer until the clock is synchronised or timeout passes.

    Not synchronising in time is no failure of the fix: the check says so afterwards.
    """
    conn = target.conn
    deadline = time.monotonic() + timeout
    while True:
        if conn.read("timedatectl show -p NTPSynchronized --value").stdout.strip() == "yes":
            return True
        if "Leap status     : Normal" in conn.read("chronyc -n tracking").stdout:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(2)
