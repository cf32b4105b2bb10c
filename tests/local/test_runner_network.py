"""Network operations on this machine: ports, interfaces; hostname and hosts in temp files."""

from __future__ import annotations

import socket
import time

import pytest

from kit.errors import CommandTimeout, KitError, KitValueError
from kit.facts import gather_facts
from kit.runner import network
from tests.local.recording import RecordingConnection


@pytest.fixture
def conn():
    return RecordingConnection()


@pytest.fixture(scope="module")
def facts():
    return gather_facts(RecordingConnection())


@pytest.fixture
def listener():
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen()
        yield srv.getsockname()[1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_is_port_open(conn, facts, listener):
    assert network.is_port_open(conn, facts, listener)
    assert not network.is_port_open(conn, facts, free_port())


def test_wait_for_port_returns_when_open_and_times_out_when_not(conn, facts, listener):
    network.wait_for_port(conn, facts, listener, timeout=5)
    started = time.monotonic()
    with pytest.raises(CommandTimeout):
        network.wait_for_port(conn, facts, free_port(), timeout=1, interval=0.2)
    assert time.monotonic() - started < 10
    assert len(conn.sent) == 2  # the polling loop runs on the host


@pytest.mark.parametrize("port", [0, 70000, -1, True])
def test_bad_ports_are_refused(conn, facts, port):
    with pytest.raises(KitValueError):
        network.is_port_open(conn, facts, port)
    assert conn.sent == []


def test_interface_addresses_match_facts(conn, facts):
    got = network.get_interface_addresses(conn, "lo")
    assert "127.0.0.1" in got["ipv4"]
    assert got["ipv4"] == list(facts.interface("lo").ipv4)
    with pytest.raises(KitError, match="hostkit0"):
        network.get_interface_addresses(conn, "hostkit0")


def test_hostname_already_set_is_a_no_op(conn, facts, tmp_path):
    current = socket.gethostname()
    hostname_file = tmp_path / "hostname"
    hostname_file.write_text(current + "\n")
    change = network.set_hostname(conn, facts, current, hostname_file=str(hostname_file))
    assert not change.changed
    assert not any(c.startswith(("hostname ", "hostnamectl")) for c in conn.sent)
    assert not conn.sent_any("mktemp")


def test_hostname_dry_run_changes_nothing(conn, facts, tmp_path):
    current = socket.gethostname()
    hostname_file = tmp_path / "hostname"
    hostname_file.write_text(current + "\n")
    plan = network.set_hostname(
        conn, facts, "hostkit-test-node", hostname_file=str(hostname_file), dry_run=True
    )
    assert plan.changed and "hostkit-test-node" in plan.summary
    assert hostname_file.read_text() == current + "\n"
    assert socket.gethostname() == current


@pytest.mark.parametrize("bad", ["-node", "node_1", "a" * 64, "node..x", "Node;reboot"])
def test_bad_hostnames_are_refused(conn, facts, bad, tmp_path):
    with pytest.raises(KitValueError, match="hostname"):
        network.set_hostname(conn, facts, bad, hostname_file=str(tmp_path / "h"))
    assert conn.sent == []


def test_host_entry_added_updated_and_idempotent(conn, tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1\tlocalhost\n# keep me\n")
    hosts.chmod(0o644)
    first = network.add_host_entry(conn, "10.0.0.5", "db.example.com", "db", hosts_file=str(hosts))
    assert first.changed and "+10.0.0.5\tdb.example.com db" in first.diff
    sent = len(conn.sent)
    again = network.add_host_entry(conn, "10.0.0.5", "db.example.com", "db", hosts_file=str(hosts))
    assert not again.changed
    assert len(conn.sent) == sent + 1  # one read, no write
    network.add_host_entry(conn, "10.0.0.5", "db2.example.com", hosts_file=str(hosts))
    assert hosts.read_text() == "127.0.0.1\tlocalhost\n# keep me\n10.0.0.5\tdb2.example.com\n"
    assert oct(hosts.stat().st_mode & 0o777) == "0o644"


def test_host_entry_dry_run_writes_nothing(conn, tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    plan = network.add_host_entry(
        conn, "10.0.0.6", "x.example", hosts_file=str(hosts), dry_run=True
    )
    assert plan.changed and plan.dry_run
    assert hosts.read_text() == "127.0.0.1 localhost\n"


def test_host_entry_names_are_validated(conn, tmp_path):
    with pytest.raises(KitValueError):
        network.add_host_entry(conn, "10.0.0.5", "bad name", hosts_file=str(tmp_path / "h"))
    with pytest.raises(KitValueError):
        network.add_host_entry(conn, "10.0.0.500", "ok", hosts_file=str(tmp_path / "h"))


@pytest.mark.parametrize(
    "ip,name",
    [
        ("fe80::1%x\n10.6.6.6 evil.example", "gw.example"),
        ("fe80::1%eth0 evil.example", "gw.example"),
        ("10.0.0.5", "db.example\n10.6.6.6 evil.example"),
        ("10.0.0.5", "-db"),
    ],
)
def test_a_host_entry_cannot_inject_a_line(conn, tmp_path, ip, name):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n")
    with pytest.raises(KitValueError):
        network.add_host_entry(conn, ip, name, hosts_file=str(hosts))
    assert conn.sent == []
    assert hosts.read_text() == "127.0.0.1 localhost\n"


def test_a_zone_id_with_a_newline_is_not_probed(conn, facts):
    with pytest.raises(KitValueError):
        network.is_port_open(conn, facts, 22, "fe80::1%lo\nx")
    assert conn.sent == []


def test_host_entry_keeps_bytes_that_are_not_utf8(conn, tmp_path):
    hosts = tmp_path / "hosts"
    before = b"127.0.0.1\tlocalhost\n# caf\xe9 \xff\xfe\n10.0.0.5 old\n"
    hosts.write_bytes(before)
    assert network.add_host_entry(conn, "10.0.0.5", "db.example", hosts_file=str(hosts)).changed
    assert hosts.read_bytes() == b"127.0.0.1\tlocalhost\n# caf\xe9 \xff\xfe\n10.0.0.5\tdb.example\n"
    assert not network.add_host_entry(conn, "10.0.0.5", "db.example", hosts_file=str(hosts)).changed
