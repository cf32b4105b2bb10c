"""Services through the host's init system: one small class per init system.

Reads (is it active, is it enabled) never need root; writes run with sudo.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from kit.connection import Connection
from kit.errors import FactUnknown
from kit.facts import Facts, InitSystem, fill
from kit.runner import journal, protect
from kit.runner.change import Change, combine
from kit.runner.files import write_file
from kit.runner.templates import render_to_string
from kit.runner.validate import name as valid_name
from kit.runner.validate import path as valid_path


class ServiceManager:
    """Drives services with the command templates from the host's facts."""

    unit_dir: ClassVar[str] = "/etc/init.d"
    unit_mode: ClassVar[str] = "0755"

    def __init__(self, conn: Connection, init: InitSystem) -> None:
        self.conn = conn
        self.init = init

    def is_active(self, service: str) -> bool:
        return self.conn.read(fill(self.init.is_active_cmd, service)).ok

    def is_enabled(self, service: str) -> bool:
        raise NotImplementedError

    def act(self, template: str, service: str) -> None:
        self.conn.run(fill(template, service), sudo=True).check()

    def daemon_reload(self) -> bool:
        """Reload the init system's view of unit files; False when it has none to reload."""
        if not self.init.daemon_reload_cmd:
            return False
        self.conn.run(self.init.daemon_reload_cmd, sudo=True).check()
        return True

    def unit_path(self, service: str) -> str:
        return f"{self.unit_dir}/{service}"


class Systemd(ServiceManager):
    unit_dir = "/etc/systemd/system"
    unit_mode = "0644"

    def is_enabled(self, service: str) -> bool:
        return self.conn.read("systemctl is-enabled --quiet -- %s", service).ok

    def unit_path(self, service: str) -> str:
        suffixed = service if "." in service else f"{service}.service"
        return f"{self.unit_dir}/{suffixed}"


class SysVinit(ServiceManager):
    def is_enabled(self, service: str) -> bool:
        # A start link in any multi-user runlevel (Debian's /etc/rcN.d, RHEL's /etc/rc.d/rcN.d).
        script = (
            "for f in /etc/rc[2345].d/S[0-9][0-9]%s /etc/rc.d/rc[2345].d/S[0-9][0-9]%s; "
            'do [ -e "$f" ] && exit 0; done; exit 1'
        )
        return self.conn.read(script, service, service).ok


class OpenRC(ServiceManager):
    def is_enabled(self, service: str) -> bool:
        return self.conn.read("test -e /etc/runlevels/default/%s", service).ok


_MANAGERS: dict[str, type[ServiceManager]] = {
    "systemd": Systemd,
    "sysvinit": SysVinit,
    "openrc": OpenRC,
}


def manager(conn: Connection, facts: Facts) -> ServiceManager:
    """The service manager for the host's init system; FactUnknown when it is unknown."""
    init = facts.require("init_system")
    assert isinstance(init, InitSystem)
    cls = _MANAGERS.get(init.type)
    if cls is None:
        raise FactUnknown("init_system", facts.hostname)
    return cls(conn, init)


def _service(name: str) -> str:
    return valid_name("service name", name)


def is_service_active(conn: Connection, facts: Facts, name: str) -> bool:
    """Whether the service runs now, asked of the init system the facts name. Reads only."""
    return manager(conn, facts).is_active(_service(name))


def is_service_enabled(conn: Connection, facts: Facts, name: str) -> bool:
    return manager(conn, facts).is_enabled(_service(name))


def _converge(
    conn: Connection,
    facts: Facts,
    name: str,
    want: tuple[str, bool],
    dry_run: bool,
) -> Change:
    """Bring one property of a service ("active" or "enabled") to the wanted value."""
    svc, mgr = _service(name), manager(conn, facts)
    prop, value = want
    now = mgr.is_active(svc) if prop == "active" else mgr.is_enabled(svc)
    verb, done, cmd = {
        ("active", True): ("start", "started", mgr.init.start_cmd),
        ("active", False): ("stop", "stopped", mgr.init.stop_cmd),
        ("enabled", True): ("enable", "enabled", mgr.init.enable_cmd),
        ("enabled", False): ("disable", "disabled", mgr.init.disable_cmd),
    }[want]
    if now == value:
        already = "running" if done == "started" else done
        return Change.none(f"{svc} already {already}", dry_run=dry_run)
    if not value:
        protect.units(conn, [svc], verb)
    with journal.live_step(conn, f"{verb} {svc}", dry_run=dry_run):
        if not dry_run:
            mgr.act(cmd, svc)
    return Change.made(f"{svc} {done}", dry_run=dry_run)


def start_service(conn: Connection, facts: Facts, name: str, *, dry_run: bool = False) -> Change:
    """Start the service unless it runs; journalled as a live step."""
    return _converge(conn, facts, name, ("active", True), dry_run)


def stop_service(conn: Connection, facts: Facts, name: str, *, dry_run: bool = False) -> Change:
    """Stop the service unless it is stopped; a unit the management path depends on (sshd,
    the session's own) is refused with ProtectedError before anything runs."""
    return _converge(conn, facts, name, ("active", False), dry_run)


def restart_service(conn: Connection, facts: Facts, name: str, *, dry_run: bool = False) -> Change:
    """Restart (or start, when stopped). An action, not a state: it always acts."""
    svc, mgr = _service(name), manager(conn, facts)
    protect.units(conn, [svc], "restart")
    with journal.live_step(conn, f"restart {svc}", dry_run=dry_run):
        if not dry_run:
            mgr.act(mgr.init.restart_cmd, svc)
    return Change.made(f"{svc} restarted", dry_run=dry_run)


def enable_service(conn: Connection, facts: Facts, name: str, *, dry_run: bool = False) -> Change:
    """Enable the service at boot unless it is enabled; journalled as a live step."""
    return _converge(conn, facts, name, ("enabled", True), dry_run)


def disable_service(conn: Connection, facts: Facts, name: str, *, dry_run: bool = False) -> Change:
    """Disable the service at boot unless it is disabled; a unit the management path
    depends on is refused with ProtectedError before anything runs."""
    return _converge(conn, facts, name, ("enabled", False), dry_run)


def daemon_reload(conn: Connection, facts: Facts, *, dry_run: bool = False) -> Change:
    """Reload unit files. An action: it always runs where the init system has one."""
    mgr = manager(conn, facts)
    if not mgr.init.daemon_reload_cmd:
        return Change.none(f"{mgr.init.type} has no daemon reload", dry_run=dry_run)
    if not dry_run:
        mgr.daemon_reload()
    return Change.made("init system reloaded", dry_run=dry_run)


def deploy_and_enable_service(
    conn: Connection,
    facts: Facts,
    name: str,
    unit_content: str,
    *,
    path: str | None = None,
    template_data: Mapping[str, Any] | None = None,
    dry_run: bool = False,
) -> Change:
    """Write the unit (rendered with template_data when given), reload, enable and run it.

    The service restarts only when the unit's content changed and it was running;
    with nothing changed, the only commands sent are reads.
    """
    svc, mgr = _service(name), manager(conn, facts)
    text = render_to_string(unit_content, template_data) if template_data else unit_content
    dest = valid_path(path) if path else mgr.unit_path(svc)
    # A new unit file under a protected name replaces what the connection runs on.
    protect.units(conn, [svc], "replace the unit file of")
    written = write_file(conn, dest, text, mode=mgr.unit_mode, sudo=True, dry_run=dry_run)
    steps = [written]
    if written.changed:
        steps.append(daemon_reload(conn, facts, dry_run=dry_run))
    steps.append(enable_service(conn, facts, svc, dry_run=dry_run))
    if written.changed and mgr.is_active(svc):
        steps.append(restart_service(conn, facts, svc, dry_run=dry_run))
    else:
        steps.append(start_service(conn, facts, svc, dry_run=dry_run))
    return combine(f"service {svc}", steps, dry_run=dry_run)
