"""Timezone, time synchronisation and reboot."""

from __future__ import annotations

import ipaddress
import time

from kit.connection import Connection
from kit.errors import CommandTimeout, FactUnknown, KitError, KitValueError
from kit.facts import Facts
from kit.runner import protect, services
from kit.runner.change import Change, combine
from kit.runner.files import write_file
from kit.runner.validate import name as valid_name
from kit.runner.validate import path as valid_path

ZONEINFO = "/usr/share/zoneinfo"


class _TimezoneFiles:
    """The timezone as /etc/localtime (a link into zoneinfo) and Debian's /etc/timezone."""

    def __init__(
        self, conn: Connection, localtime: str, timezone_file: str | None, zoneinfo: str
    ) -> None:
        self.conn = conn
        self.localtime = localtime
        self.timezone_file = timezone_file
        self.zoneinfo = zoneinfo

    def current(self) -> str:
        link = self.conn.read("readlink -- %s", self.localtime).stdout.strip()
        return link.split("zoneinfo/", 1)[1] if "zoneinfo/" in link else ""

    def apply(self, tz: str, *, dry_run: bool) -> Change:
        steps = []
        target = f"{self.zoneinfo}/{tz}"
        if self.current() != tz:
            if not dry_run:
                self.conn.run("ln -sfn -- %s %s", target, self.localtime, sudo=True).check()
            steps.append(Change.made(f"{self.localtime} -> {target}", dry_run=dry_run))
        if self.timezone_file and self.conn.read("test -e %s", self.timezone_file).ok:
            steps.append(
                write_file(self.conn, self.timezone_file, tz + "\n", sudo=True, dry_run=dry_run)
            )
        return combine(f"timezone {tz}", steps, dry_run=dry_run)


class _Timedatectl(_TimezoneFiles):
    def apply(self, tz: str, *, dry_run: bool) -> Change:
        if self.current() == tz:
            return Change.none(f"timezone already {tz}", dry_run=dry_run)
        if not dry_run:
            self.conn.run("timedatectl set-timezone -- %s", tz, sudo=True).check()
        return Change.made(f"timezone {tz}", dry_run=dry_run)


def set_timezone(
    conn: Connection,
    facts: Facts,
    timezone: str,
    *,
    localtime: str = "/etc/localtime",
    timezone_file: str | None = "/etc/timezone",
    zoneinfo: str = ZONEINFO,
    dry_run: bool = False,
) -> Change:
    """Make timezone (an IANA name such as Europe/Berlin) the host's zone."""
    tz = valid_name("timezone", timezone)
    if not conn.read("test -f %s", f"{valid_path(zoneinfo)}/{tz}").ok:
        raise KitValueError(f"unknown timezone {tz!r}: no {zoneinfo}/{tz} on {conn.name}")
    systemd = facts.init_system.type == "systemd" and facts.has("timedatectl")
    cls = _Timedatectl if systemd else _TimezoneFiles
    return cls(conn, valid_path(localtime), timezone_file, zoneinfo).apply(tz, dry_run=dry_run)


class TimeService:
    """A time daemon: its service name, where servers are configured, how it syncs."""

    service: str
    config_path: str

    def __init__(self, conn: Connection, facts: Facts) -> None:
        self.conn = conn
        self.facts = facts

    def config(self, servers: tuple[str, ...]) -> str:
        raise NotImplementedError

    def step_if_unsynchronized(self, *, dry_run: bool) -> Change:
        return Change.none("time sync left to the daemon", dry_run=dry_run)


class Chrony(TimeService):
    def __init__(self, conn: Connection, facts: Facts) -> None:
        super().__init__(conn, facts)
        # Debian's package names the unit "chrony" and reads conf.d; the RHEL family's "chronyd".
        debian = facts.os.family == "debian"
        self.service = "chrony" if debian else "chronyd"
        self.config_path = (
            "/etc/chrony/conf.d/hostkit.conf" if debian else "/etc/chrony.d/hostkit.conf"
        )

    def config(self, servers: tuple[str, ...]) -> str:
        return "".join(f"server {s} iburst\n" for s in servers)

    def step_if_unsynchronized(self, *, dry_run: bool) -> Change:
        tracking = self.conn.read("chronyc -n tracking").stdout
        if "Leap status     : Normal" in tracking:
            return Change.none("chrony synchronised", dry_run=dry_run)
        if not dry_run:
            self.conn.run("chronyc makestep", sudo=True).check()
        return Change.made("clock stepped by chrony", dry_run=dry_run)


class Timesyncd(TimeService):
    service = "systemd-timesyncd"
    config_path = "/etc/systemd/timesyncd.conf.d/hostkit.conf"

    def config(self, servers: tuple[str, ...]) -> str:
        return f"[Time]\nNTP={' '.join(servers)}\n"

    # No step of its own: `timedatectl set-ntp true` only enables and starts this unit,
    # which sync_time has done with the init system, and it needs D-Bus, which minimal
    # images lack ("Failed to connect to bus").


def _server(value: str) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return valid_name("hostname", value.lower())


def time_service(conn: Connection, facts: Facts) -> TimeService:
    """chrony where it is installed, else systemd-timesyncd on systemd hosts."""
    if facts.has("chronyc") or facts.time_sync.service == "chronyd":
        return Chrony(conn, facts)
    if facts.init_system.type == "systemd":
        return Timesyncd(conn, facts)
    raise FactUnknown("time_sync.service", facts.hostname)


def sync_time(
    conn: Connection,
    facts: Facts,
    *servers: str,
    config_path: str | None = None,
    dry_run: bool = False,
) -> Change:
    """Run a time daemon (with servers, when given) and have it synchronise the clock."""
    for s in servers:
        _server(s)
    svc = time_service(conn, facts)
    steps = []
    config_changed = False
    if servers:
        path = valid_path(config_path or svc.config_path)
        written = write_file(conn, path, svc.config(servers), sudo=True, dry_run=dry_run)
        config_changed = written.changed
        steps.append(written)
    steps.append(services.enable_service(conn, facts, svc.service, dry_run=dry_run))
    running = services.is_service_active(conn, facts, svc.service)
    if config_changed and running:
        steps.append(services.restart_service(conn, facts, svc.service, dry_run=dry_run))
    else:
        steps.append(services.start_service(conn, facts, svc.service, dry_run=dry_run))
    if running:
        steps.append(svc.step_if_unsynchronized(dry_run=dry_run))
    return combine("time sync", steps, dry_run=dry_run)


_BOOT_ID = "cat /proc/sys/kernel/random/boot_id"


def reboot(
    conn: Connection,
    timeout: float = 600.0,
    *,
    poll: float = 3.0,
    accept_disconnect: bool = False,
    dry_run: bool = False,
) -> Change:
    """Reboot, and return once the host answers with a new boot id.

    A reboot cuts the connection, so it is refused (ProtectedError) unless the
    caller says it expects that with accept_disconnect=True; never on local://.

    The reboot is scheduled a second ahead, detached, so the command returns
    before the connection drops; the connection then reconnects on its next
    command. CommandTimeout when the host is not back within timeout seconds.
    """
    protect.reboot(conn, accept_disconnect)
    before = conn.read(_BOOT_ID).check().stdout.strip()
    if dry_run:
        return Change.made("reboot", dry_run=True)
    conn.run("nohup sh -c 'sleep 1; reboot' >/dev/null 2>&1 &", sudo=True).check()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(poll)
        try:
            res = conn.read(_BOOT_ID, timeout=max(1.0, min(10.0, deadline - time.monotonic())))
        except KitError:
            continue  # down, or coming up: keep asking until the deadline
        now = res.stdout.strip()
        if res.ok and now and now != before:
            return Change.made(f"rebooted (boot id {before[:8]} -> {now[:8]})")
    raise CommandTimeout("reboot and wait for a new boot id", timeout)
