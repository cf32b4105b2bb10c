"""Timezone in temp files, time sync errors, and reboot against a simulated host."""

from __future__ import annotations

import dataclasses
import os

import pytest

from kit.connection.base import Connection
from kit.connection.spec import parse
from kit.errors import (
    CommandTimeout,
    FactUnknown,
    HostUnreachable,
    KitValueError,
    ProtectedError,
)
from kit.facts import InitSystem, gather_facts
from kit.runner import system
from tests.local.recording import RecordingConnection


@pytest.fixture(scope="module")
def facts():
    return dataclasses.replace(gather_facts(RecordingConnection()), init_system=InitSystem())


@pytest.fixture
def zone_files(tmp_path):
    localtime = tmp_path / "localtime"
    os.symlink("/usr/share/zoneinfo/Etc/UTC", localtime)
    timezone = tmp_path / "timezone"
    timezone.write_text("Etc/UTC\n")
    return localtime, timezone


def set_tz(conn, facts, tz, zone_files, **kw):
    localtime, timezone = zone_files
    return system.set_timezone(
        conn, facts, tz, localtime=str(localtime), timezone_file=str(timezone), **kw
    )


def test_timezone_already_set_sends_no_write(facts, zone_files):
    conn = RecordingConnection()
    assert not set_tz(conn, facts, "Etc/UTC", zone_files).changed
    assert not conn.sent_any("ln -sfn", "mktemp")


def test_timezone_is_set_then_compliant(facts, zone_files):
    conn = RecordingConnection()
    change = set_tz(conn, facts, "Europe/Berlin", zone_files)
    assert change.changed
    localtime, timezone = zone_files
    assert os.readlink(localtime) == "/usr/share/zoneinfo/Europe/Berlin"
    assert timezone.read_text() == "Europe/Berlin\n"
    assert not set_tz(conn, facts, "Europe/Berlin", zone_files).changed


def test_timezone_dry_run(facts, zone_files):
    plan = set_tz(RecordingConnection(), facts, "Asia/Tokyo", zone_files, dry_run=True)
    assert plan.changed and plan.dry_run
    assert os.readlink(zone_files[0]) == "/usr/share/zoneinfo/Etc/UTC"
    assert zone_files[1].read_text() == "Etc/UTC\n"


@pytest.mark.parametrize("bad", ["Mars/Olympus", "../../etc/passwd", "Europe/Berlin;id", ""])
def test_bad_or_unknown_timezones_are_refused(facts, zone_files, bad):
    with pytest.raises(KitValueError):
        set_tz(RecordingConnection(), facts, bad, zone_files)


def test_sync_time_without_a_time_daemon_is_a_clear_error(facts):
    if facts.has("chronyc"):
        pytest.skip("chrony is installed here")
    with pytest.raises(FactUnknown, match="time_sync"):
        system.sync_time(RecordingConnection(), facts, "ntp.example.com")


def test_time_service_choice(facts):
    conn = RecordingConnection()
    chrony = dataclasses.replace(
        facts, executables={**facts.executables, "chronyc": "/usr/bin/chronyc"}
    )
    svc = system.time_service(conn, chrony)
    assert isinstance(svc, system.Chrony) and svc.service == "chrony"
    assert svc.config(("10.0.0.1", "ntp.example.com")) == (
        "server 10.0.0.1 iburst\nserver ntp.example.com iburst\n"
    )
    rhel = dataclasses.replace(chrony, os=dataclasses.replace(facts.os, family="rhel"))
    assert system.time_service(conn, rhel).service == "chronyd"


def test_reboot_of_the_controller_itself_is_refused_before_anything_runs():
    conn = RecordingConnection()
    for dry_run in (True, False):
        with pytest.raises(ProtectedError, match="end the controller itself"):
            system.reboot(conn, accept_disconnect=True, dry_run=dry_run)
    assert conn.sent == []


def test_reboot_without_accepting_the_disconnect_is_refused():
    host = RebootingHost()
    with pytest.raises(ProtectedError, match="accept the disconnect"):
        system.reboot(host, timeout=5, poll=0.01)
    assert not host.rebooted and host.sent == []


def test_reboot_dry_run_reads_the_boot_id_only():
    host = RebootingHost()
    plan = system.reboot(host, accept_disconnect=True, dry_run=True)
    assert plan.changed and plan.dry_run and not host.rebooted
    assert host.sent == ["cat /proc/sys/kernel/random/boot_id"]


class RebootingHost(Connection):
    """A simulated host: answers, goes away for a few polls after `reboot`, comes back
    with a new boot id. Rebooting this machine is not an option."""

    def __init__(self, down_for=2, new_boot_id="bbbb"):
        super().__init__(parse("ssh://simulated.invalid"))
        self.sent: list[str] = []
        self.boot_id = "aaaa"
        self.down = 0
        self.down_for = down_for
        self.new_boot_id = new_boot_id
        self.rebooted = False

    def _exec(self, cmdline, *, stdin, timeout):
        self.sent.append(cmdline)
        if "reboot" in cmdline:
            self.rebooted, self.down = True, self.down_for
            return 0, b"", b""
        if self.down:
            self.down -= 1
            raise HostUnreachable(self.name, "connection refused")
        if self.rebooted:
            self.boot_id = self.new_boot_id
        return 0, (self.boot_id + "\n").encode(), b""

    def _probe_sudo(self):
        from kit.connection import sudo

        return sudo.SudoMode.ROOT


def test_reboot_waits_for_a_new_boot_id():
    host = RebootingHost()
    change = system.reboot(host, timeout=5, poll=0.01, accept_disconnect=True)
    assert change.changed and host.rebooted
    assert "aaaa" in change.summary and "bbbb" in change.summary


def test_reboot_times_out_when_the_boot_id_never_changes():
    host = RebootingHost(down_for=1, new_boot_id="aaaa")
    with pytest.raises(CommandTimeout):
        system.reboot(host, timeout=0.3, poll=0.01, accept_disconnect=True)
