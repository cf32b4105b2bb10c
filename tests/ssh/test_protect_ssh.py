"""The management path of a real SSH connection: what it depends on, and the operations
the runner refuses because they would cut it. Nothing here may change the host: every
refusal must come before the first write."""

from __future__ import annotations

import subprocess

import pytest

from kit.connection import Connection
from kit.errors import ProtectedError
from kit.runner import files, lifeline, processes, protect, users
from kit.runner.firewall import FirewallRule
from tests.ssh import sshd


def test_the_lifeline_names_the_port_the_user_and_the_sshd_holding_the_session(
    conn: Connection, server: sshd.Sshd
) -> None:
    line = lifeline.read(conn)
    assert line.transport == "ssh"
    assert line.port == server.port
    assert line.user == sshd.USER and line.uid > 0
    holder = line.holder()
    assert holder is not None and holder.name.startswith("sshd")
    # The chain climbs to the sshd this test started, which listens for everyone.
    assert server.proc.pid in line.pids


def test_the_sshd_units_are_refused_even_in_a_plan(conn: Connection) -> None:
    for unit in ("ssh", "sshd.service", "ssh.socket"):
        with pytest.raises(ProtectedError, match="serves SSH logins"):
            protect.units(conn, [unit], "stop")
    assert protect.units(conn, ["kubelet"], "stop") is not None


def test_processes_the_session_runs_through_are_never_signalled(
    conn: Connection, server: sshd.Sshd
) -> None:
    line = lifeline.read(conn)
    for pid in (line.holder().pid, server.proc.pid):
        with pytest.raises(ProtectedError, match="carries this connection"):
            processes.kill_process(conn, pid)
        with pytest.raises(ProtectedError):
            processes.kill_process(conn, pid, dry_run=True)
    assert server.proc.poll() is None
    assert conn.run("true").ok


def test_an_unrelated_process_may_be_signalled(connect) -> None:
    root = connect(sshd.NOPASSWD_USER)
    with subprocess.Popen(["sleep", "60"]) as victim:
        change = processes.kill_process(root, victim.pid)
        assert change.changed
        assert victim.wait(10) != 0


def test_denying_the_connections_port_is_refused(conn: Connection, server: sshd.Sshd) -> None:
    with pytest.raises(ProtectedError, match=f"TCP port {server.port}"):
        protect.firewall_rules(conn, [(server.port, "tcp")])
    protect.firewall_rules(conn, [(server.port, "udp"), (server.port + 1, "tcp")])
    FirewallRule(server.port, "tcp", "deny")  # the rule itself is valid; using it is not


def test_the_connecting_account_is_not_changed(conn: Connection) -> None:
    with pytest.raises(ProtectedError, match="account this connection logs in with"):
        users.modify_user(conn, sshd.USER, users.UserModifications(shell="/usr/sbin/nologin"))
    with pytest.raises(ProtectedError):
        users.set_user_password(conn, sshd.USER, "$6$hostkit$" + "c" * 86, dry_run=True)
    assert conn.run("getent passwd %s", sshd.USER).stdout.rstrip().endswith(":/bin/sh")


def test_adding_the_connecting_user_to_a_group_is_allowed(conn: Connection) -> None:
    plan = users.modify_user(
        conn, sshd.USER, users.UserModifications(add_groups=("users",)), dry_run=True
    )
    assert plan.changed and plan.dry_run


def test_sudo_rights_the_connection_relies_on_are_not_rewritten(conn: Connection, tmp_path) -> None:
    target = tmp_path / "sudoers.d"
    target.mkdir()
    for content in (
        f"{sshd.USER} ALL=(ALL) ALL\n",
        f"%{sshd.USER} ALL=(ALL) NOPASSWD: /bin/true\n",
        "ALL ALL=(ALL) /bin/false\n",
        "Defaults requiretty\n",
        "User_Alias ADMINS = someone\n",
    ):
        with pytest.raises(ProtectedError, match="sudo rights"):
            users.configure_sudoer(conn, "hostkit-guard", content, directory=str(target))
    assert list(target.iterdir()) == []


def test_the_connecting_users_keys_and_the_login_files_are_not_written(
    conn: Connection, tmp_path
) -> None:
    keys = f"/home/{sshd.USER}/.ssh/authorized_keys"
    with pytest.raises(ProtectedError, match="keys"):
        files.write_file(conn, keys, "", dry_run=True)
    for path in ("/etc/ssh/sshd_config", "/etc/ssh/sshd_config.d/hk.conf", "/etc/sudoers.d/x"):
        with pytest.raises(ProtectedError):
            files.write_file(conn, path, "# nothing\n", sudo=True, dry_run=True)
    assert files.write_file(conn, str(tmp_path / "f"), "x", dry_run=True).changed


def test_a_drop_in_for_an_unrelated_account_goes_ahead(connect, tmp_path) -> None:
    nopw = connect(sshd.NOPASSWD_USER)
    target = tmp_path / "sudoers.d"
    target.mkdir(mode=0o755)
    plan = users.configure_sudoer(
        nopw, "other", "nobody ALL=(ALL) /bin/true\n", directory=str(target), dry_run=True
    )
    assert plan.changed
