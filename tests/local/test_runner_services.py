"""Services through a stand-in init system made of sh scripts and state files.

This machine's pid 1 is not an init system the kit drives, and its services must
not change; the stand-in is the one thing here that is not real.
"""

from __future__ import annotations

import dataclasses

import pytest

from kit.errors import FactUnknown, KitValueError
from kit.facts import InitSystem, gather_facts
from kit.runner import services
from tests.local.recording import RecordingConnection

CTL = """#!/bin/sh
state={state}
verb=$1; svc=$2
echo "$verb $svc" >> "$state/log"
case $verb in
  start) touch "$state/$svc.active" ;;
  stop) rm -f "$state/$svc.active" ;;
  restart) touch "$state/$svc.active"; echo restarted >> "$state/$svc.restarts" ;;
  enable) touch "$state/$svc.enabled" ;;
  disable) rm -f "$state/$svc.enabled" ;;
  status) test -e "$state/$svc.active" ;;
  enabled) test -e "$state/$svc.enabled" ;;
  reload) : ;;
esac
"""


class StandIn(services.ServiceManager):
    unit_mode = "0644"

    def is_enabled(self, service):
        return self.conn.run(fill(self.init.is_active_cmd.replace("status", "enabled"), service)).ok


def fill(template, name):
    from kit.facts import fill as real_fill

    return real_fill(template, name)


@pytest.fixture
def env(tmp_path, monkeypatch):
    state = tmp_path / "state"
    state.mkdir()
    ctl = tmp_path / "ctl"
    ctl.write_text(CTL.format(state=state))
    ctl.chmod(0o755)
    init = InitSystem(
        type="standin",  # type: ignore[arg-type]
        start_cmd=f"{ctl} start {{}}",
        stop_cmd=f"{ctl} stop {{}}",
        enable_cmd=f"{ctl} enable {{}}",
        disable_cmd=f"{ctl} disable {{}}",
        restart_cmd=f"{ctl} restart {{}}",
        is_active_cmd=f"{ctl} status {{}}",
        daemon_reload_cmd=f"{ctl} reload all",
    )
    monkeypatch.setitem(services._MANAGERS, "standin", StandIn)
    conn = RecordingConnection()
    facts = dataclasses.replace(gather_facts(conn), init_system=init)
    conn.sent.clear()
    return conn, facts, state, tmp_path


def log(state):
    path = state / "log"
    return (
        [ln for ln in path.read_text().splitlines() if ln.split()[0] not in {"status", "enabled"}]
        if path.exists()
        else []
    )


def test_start_stop_are_idempotent(env):
    conn, facts, state, _ = env
    assert services.start_service(conn, facts, "web").changed
    assert services.is_service_active(conn, facts, "web")
    assert not services.start_service(conn, facts, "web").changed
    assert services.stop_service(conn, facts, "web").changed
    assert not services.stop_service(conn, facts, "web").changed
    assert log(state) == ["start web", "stop web"]


def test_enable_disable_are_idempotent(env):
    conn, facts, state, _ = env
    assert services.enable_service(conn, facts, "web").changed
    assert not services.enable_service(conn, facts, "web").changed
    assert services.disable_service(conn, facts, "web").changed
    assert not services.disable_service(conn, facts, "web").changed
    assert log(state) == ["enable web", "disable web"]


def test_dry_run_reads_but_never_acts(env):
    conn, facts, state, _ = env
    for op in (services.start_service, services.enable_service, services.restart_service):
        change = op(conn, facts, "web", dry_run=True)
        assert change.changed and change.dry_run
    assert services.daemon_reload(conn, facts, dry_run=True).changed
    assert log(state) == []


def test_deploy_restarts_only_when_the_unit_changed(env):
    conn, facts, state, tmp = env
    unit = tmp / "web.service"
    first = services.deploy_and_enable_service(
        conn,
        facts,
        "web",
        "[Service]\nExecStart={{ bin }}\n",
        path=str(unit),
        template_data={"bin": "/usr/bin/web"},
    )
    assert first.changed
    assert unit.read_text() == "[Service]\nExecStart=/usr/bin/web\n"
    assert log(state) == ["reload all", "enable web", "start web"]

    again = services.deploy_and_enable_service(
        conn,
        facts,
        "web",
        "[Service]\nExecStart={{ bin }}\n",
        path=str(unit),
        template_data={"bin": "/usr/bin/web"},
    )
    assert not again.changed
    assert len(log(state)) == 3

    plan = services.deploy_and_enable_service(
        conn, facts, "web", "[Service]\nExecStart=/usr/bin/web2\n", path=str(unit), dry_run=True
    )
    assert plan.changed and "restarted" in plan.summary
    assert unit.read_text() == "[Service]\nExecStart=/usr/bin/web\n"
    assert len(log(state)) == 3

    services.deploy_and_enable_service(
        conn, facts, "web", "[Service]\nExecStart=/usr/bin/web2\n", path=str(unit)
    )
    assert log(state)[3:] == ["reload all", "restart web"]


def test_unit_path_per_init_system(env):
    conn, facts, _, _ = env
    assert services.Systemd(conn, facts.init_system).unit_path("web") == (
        "/etc/systemd/system/web.service"
    )
    assert services.Systemd(conn, facts.init_system).unit_path("web.socket") == (
        "/etc/systemd/system/web.socket"
    )
    assert services.SysVinit(conn, facts.init_system).unit_path("web") == "/etc/init.d/web"


def test_sysvinit_reads_on_this_machine(env):
    conn, facts, _, _ = env
    from kit.facts.commands import init_system

    sysv = dataclasses.replace(facts, init_system=init_system("sysvinit", facts.executables))
    assert not services.is_service_enabled(conn, sysv, "hostkit-no-such-service")
    plan = services.enable_service(conn, sysv, "hostkit-no-such-service", dry_run=True)
    assert plan.changed and plan.dry_run
    assert not conn.sent_any("update-rc.d")


@pytest.mark.parametrize("bad", ["web;reboot", "a b", "", "$(id)", "--now", "-q", "-Hroot@host"])
def test_bad_service_names_are_refused_first(env, bad):
    conn, facts, _, _ = env
    with pytest.raises(KitValueError, match="service name"):
        services.start_service(conn, facts, bad)
    assert conn.sent == []


def test_unknown_init_system_is_a_clear_error(env):
    conn, facts, _, _ = env
    with pytest.raises(FactUnknown, match="init_system"):
        services.start_service(conn, dataclasses.replace(facts, init_system=InitSystem()), "web")
