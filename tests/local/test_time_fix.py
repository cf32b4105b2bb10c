"""sync_time on hosts as they come: the time daemon they have, with or without D-Bus.

Stand-ins on the PATH for systemctl and timedatectl, because this machine runs no
systemd and a real D-Bus-less systemd host is the hosts tier's (i23-hosts): systemctl
keeps each unit's state in files under the test's directory, and timedatectl answers as
it does without D-Bus ("Failed to connect to bus"). Everything else is the real
remediation, runner and local connection; package commands are only simulated (dry run).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hostkit_catalog.remediations import time as time_fixes
from kit.catalog.remediation import Target
from kit.connection.planning import PlanningConnection
from kit.errors import FixRefused
from tests.local.recording import RecordingConnection
from tests.unit.test_catalog_verdicts import load

SYSTEMCTL = """#!/bin/sh
# A stand-in for systemctl: unit state as files under $STATE.
state=STATE
echo "$*" >> "$state/log"
verb= unit=
for a in "$@"; do
    case $a in -*) ;; *) if [ -z "$verb" ]; then verb=$a; else unit=${a%.service}; fi ;; esac
done
case $verb in
    is-active) test -e "$state/active.$unit" ;;
    is-enabled) test -e "$state/enabled.$unit" ;;
    start|restart) touch "$state/active.$unit" ;;
    enable) touch "$state/enabled.$unit" ;;
    *) exit 0 ;;
esac
"""
TIMEDATECTL = """#!/bin/sh
echo "$*" >> STATE/timedatectl.log
echo "Failed to connect to bus: No such file or directory" >&2
exit 1
"""
SYSTEMD = "pid1=systemd\nsystemd-booted\ninit.d"


@pytest.fixture
def tools(tmp_path) -> Path:
    bin_dir, state = tmp_path / "bin", tmp_path / "state"
    bin_dir.mkdir()
    state.mkdir()
    for name, text in (("systemctl", SYSTEMCTL), ("timedatectl", TIMEDATECTL)):
        (bin_dir / name).write_text(text.replace("STATE", str(state)))
        (bin_dir / name).chmod(0o755)
    return tmp_path


def _facts(units: str = "", procs: str = "", **sections: str):
    facts = load("debian12", init=SYSTEMD, units=units, procs=procs, **sections)
    return dataclasses.replace(facts, hostname="node")


def _plan(tools: Path, facts) -> tuple[str, list[str]]:
    conn = RecordingConnection(path_prefix=str(tools / "bin"))
    change = time_fixes.sync_time(Target(PlanningConnection(conn), facts, dry_run=True))
    return change.summary, conn.sent


@pytest.mark.parametrize(
    ("units", "unit"),
    [
        ("ntpsec.service=disabled", "ntpsec"),
        ("ntp.service=disabled", "ntp"),
        ("chrony.service=disabled", "chrony"),
        ("openntpd.service=disabled", "openntpd"),
        ("systemd-timesyncd.service=disabled", "systemd-timesyncd"),
    ],
)
def test_an_installed_but_stopped_daemon_is_the_one_started(tools, units, unit):
    summary, sent = _plan(tools, _facts(units=units))
    assert summary == f"time sync: {unit} enabled; {unit} started"
    assert not [c for c in sent if "apt-get" in c or "dpkg-query" in c], "a package was asked for"


def test_chrony_is_preferred_to_timesyncd_when_both_are_there(tools):
    units = "chrony.service=disabled\nsystemd-timesyncd.service=disabled"
    summary, _ = _plan(tools, _facts(units=units))
    assert summary == "time sync: chrony enabled; chrony started"


def test_a_masked_daemon_is_the_operators_choice(tools):
    with pytest.raises(FixRefused, match=r"ntpsec\.service is masked"):
        _plan(tools, _facts(units="ntpsec.service=masked"))


def test_timesyncd_is_installed_only_when_no_daemon_is(tools):
    # The package query is this machine's own dpkg, which may have it installed already:
    # what matters is that the fix asks for it, and only here.
    summary, sent = _plan(tools, _facts())
    assert [c for c in sent if "dpkg-query" in c and "systemd-timesyncd" in c]
    assert summary.endswith("systemd-timesyncd enabled; systemd-timesyncd started")


def test_timesyncd_without_d_bus_is_driven_by_systemctl_alone(tools, monkeypatch):
    # Running and enabled, clock not synchronised yet: nothing to change, and nothing that
    # needs the bus (timedatectl set-ntp failed there with "Failed to connect to bus").
    monkeypatch.setattr(time_fixes, "SYNC_WAIT", 0.0)
    state = tools / "state"
    (state / "active.systemd-timesyncd").touch()
    (state / "enabled.systemd-timesyncd").touch()
    facts = _facts(
        units="systemd-timesyncd.service=enabled",
        procs="systemd-timesyn",
        timesync="ntpsynchronized=\ntimesyncd-synchronized=no",
    )
    conn = RecordingConnection(path_prefix=str(tools / "bin"))
    change = time_fixes.sync_time(Target(conn, facts, dry_run=False))
    assert not change.changed
    writes = [c for c in conn.sent if "timedatectl" in c and " show" not in c]
    assert writes == []


def test_the_runners_sync_time_drives_timesyncd_without_timedatectl(tools):
    # kit.runner.system.sync_time, as a remediation of one's own calls it, with servers.
    from kit.runner import system

    state = tools / "state"
    (state / "active.systemd-timesyncd").touch()
    (state / "enabled.systemd-timesyncd").touch()
    facts = _facts(units="systemd-timesyncd.service=enabled", procs="systemd-timesyn")
    conn = RecordingConnection(path_prefix=str(tools / "bin"))
    plan = system.sync_time(PlanningConnection(conn), facts, dry_run=True)
    assert not plan.changed
    assert not (state / "timedatectl.log").exists(), (state / "timedatectl.log").read_text()
