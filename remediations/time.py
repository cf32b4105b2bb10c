"""Clock synchronisation."""

from __future__ import annotations

import time

from kit.catalog.remediation import Target, remediation
from kit.errors import FixRefused
from kit.facts import Facts
from kit.runner import packages, services, system
from kit.runner.change import Change, combine

TIMESYNCD = "systemd-timesyncd.service"
# Time daemons' units, in the order one is chosen when several are installed and none
# runs: chrony (Debian's unit "chrony", the RHEL family's "chronyd"), ntpd (ntpsec on
# Debian 12 and later, ntp before, ntpd on the RHEL family), OpenNTPD, and last
# systemd-timesyncd, which Debian installs by default beside nothing else.
DAEMONS = (
    "chrony.service",
    "chronyd.service",
    "ntpsec.service",
    "ntp.service",
    "ntpd.service",
    "openntpd.service",
    TIMESYNCD,
)
# The units each running daemon (the process name facts.time_sync.service reads) may be:
# ntpsec's and OpenNTPD's processes are called ntpd too.
RUNNING = {
    "chronyd": ("chrony.service", "chronyd.service"),
    "ntpd": ("ntpsec.service", "ntp.service", "ntpd.service", "openntpd.service"),
    "systemd-timesyncd": (TIMESYNCD,),
}
CHRONY = ("chrony", "chronyd")
SYNC_WAIT = 30.0
SYNCHRONIZED_FLAG = "/run/systemd/timesync/synchronized"


@remediation(
    reboot=False,
    persists=True,
    strategy="enable",
    disruption="medium",
    installs=True,
    never=(
        "the time servers already configured; a time daemon already installed (enabled and "
        "started, never replaced: another package would remove it); a masked one"
    ),
)
def sync_time(target: Target) -> Change:
    """Have the time daemon the host has keep the clock: the one that runs, else the one
    installed (chrony, ntpsec, ntp, OpenNTPD, systemd-timesyncd, in that order), enabled
    and started with the init system alone (systemctl needs no D-Bus, timedatectl does).
    Only where none is installed, the family's own is installed (chrony on the RHEL
    family, systemd-timesyncd on Debian and Ubuntu), refreshing stale package lists first.
    A running chrony that has not synchronised is stepped; then a bounded wait.

    Medium disruption: a clock stepped under running workloads moves their timers and
    certificate checks.
    """
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    unit = chosen_unit(facts)
    steps: list[Change] = []
    if unit is None:
        if facts.init_system.type != "systemd" and facts.os.family != "rhel":
            raise FixRefused("no time daemon and no systemd: install chrony or ntpd by hand")
        package = "chrony" if facts.os.family == "rhel" else "systemd-timesyncd"
        steps.append(packages.update_package_cache(conn, facts, max_age=24 * 3600, dry_run=dry_run))
        steps.append(packages.install_packages(conn, facts, package, dry_run=dry_run))
        unit = "chronyd.service" if package == "chrony" else TIMESYNCD
    name = unit.removesuffix(".service")
    was_running = facts.time_sync.service is not None
    steps.append(services.enable_service(conn, facts, name, dry_run=dry_run))
    steps.append(services.start_service(conn, facts, name, dry_run=dry_run))
    if name in CHRONY and was_running:
        steps.append(system.Chrony(conn, facts).step_if_unsynchronized(dry_run=dry_run))
    if not dry_run:
        _wait_for_sync(target, SYNC_WAIT)
    return combine("time sync", steps, dry_run=dry_run)


def chosen_unit(facts: Facts) -> str | None:
    """The unit of the daemon to keep the clock: the running one's, else the first
    installed (a unit file systemd knows) that is not masked; None when none is installed.
    FixRefused when every installed one is masked: that is the operator's choice."""
    states = facts.unit_states
    running = facts.time_sync.service
    if running is not None:
        known = [u for u in RUNNING.get(running, ()) if u in states]
        if known:
            return known[0]
        # Not under systemd (no unit states): the init system's name for it.
        if running == "chronyd":
            return "chrony.service" if facts.os.family == "debian" else "chronyd.service"
        return f"{running}.service"
    installed = [u for u in DAEMONS if u in states]
    usable = [u for u in installed if states[u] != "masked"]
    if usable:
        return usable[0]
    if installed:
        raise FixRefused(
            f"{', '.join(installed)} {'is' if len(installed) == 1 else 'are'} masked: "
            "unmask the time daemon wanted by hand (systemctl unmask)"
        )
    if facts.has("chronyc"):
        return "chrony.service" if facts.os.family == "debian" else "chronyd.service"
    return None


def _wait_for_sync(target: Target, timeout: float) -> bool:
    """Poll the daemon's own answer until the clock is synchronised or timeout passes.

    Not synchronising in time is no failure of the fix: the check says so afterwards.
    """
    conn = target.conn
    deadline = time.monotonic() + timeout
    while True:
        if conn.read("timedatectl show -p NTPSynchronized --value").stdout.strip() == "yes":
            return True
        # Without D-Bus timedatectl cannot answer; timesyncd's flag file can.
        if conn.read("test -e %s", SYNCHRONIZED_FLAG).ok:
            return True
        if "Leap status     : Normal" in conn.read("chronyc -n tracking").stdout:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(2)
