"""Runner operations that need root, over SSH as a user whose sudo wants a password.

Writes go to temporary files only; the password must never show in a result.
"""

from __future__ import annotations

import os

import pytest

from kit.connection import Connection
from kit.facts import gather_facts
from kit.runner import network, users
from tests.ssh import sshd


@pytest.fixture
def root_dir(tmp_path):
    # Only root may write here: the operations must go through sudo to succeed.
    path = tmp_path / "etc"
    path.mkdir(mode=0o755)
    return path


def test_facts_with_sudo_in_one_round_trip(conn: Connection) -> None:
    facts = gather_facts(conn, sudo=True)
    with open("/proc/sys/kernel/random/boot_id") as fh:
        assert facts.boot_id == fh.read().strip()
    assert facts.os.id != "unknown"
    assert facts.package_manager.type != "unknown" or facts.os.family == "unknown"


def test_sudoer_through_password_sudo(conn: Connection, server: sshd.Sshd, root_dir) -> None:
    # For another user: a drop-in naming the connecting user is refused (test_protect_ssh).
    content = f"{sshd.NOPASSWD_USER} ALL=(ALL) NOPASSWD: /usr/bin/true\n"
    change = users.configure_sudoer(conn, "hostkit-test", content, directory=str(root_dir))
    assert change.changed
    dest = root_dir / "hostkit-test"
    assert dest.read_text() == content
    assert (oct(dest.stat().st_mode & 0o777), dest.stat().st_uid) == ("0o440", 0)
    assert not users.configure_sudoer(
        conn, "hostkit-test", content, directory=str(root_dir)
    ).changed
    password = server.users[sshd.USER]
    assert password not in str(change) + change.diff


def test_invalid_sudoer_over_ssh_never_lands(conn: Connection, server: sshd.Sshd, root_dir) -> None:
    with pytest.raises(users.SudoersInvalid) as info:
        users.configure_sudoer(conn, "broken", "x ALL=(\n", directory=str(root_dir))
    assert server.users[sshd.USER] not in str(info.value)
    assert os.listdir(root_dir) == []


def test_password_hash_dry_run_reads_shadow_with_sudo(conn: Connection, server: sshd.Sshd) -> None:
    digest = "$6$hostkit$" + "b" * 86
    plan = users.set_user_password(conn, sshd.NOPASSWD_USER, digest, dry_run=True)
    assert plan.changed and plan.dry_run
    assert digest not in str(plan)


def test_hosts_entry_through_sudo_keeps_mode(conn: Connection, root_dir) -> None:
    hosts = root_dir / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    hosts.chmod(0o644)
    assert network.add_host_entry(conn, "10.9.9.9", "node9.example", hosts_file=str(hosts)).changed
    assert hosts.read_text() == "127.0.0.1 localhost\n10.9.9.9\tnode9.example\n"
    assert (oct(hosts.stat().st_mode & 0o777), hosts.stat().st_uid) == ("0o644", 0)
    again = network.add_host_entry(conn, "10.9.9.9", "node9.example", hosts_file=str(hosts))
    assert not again.changed
