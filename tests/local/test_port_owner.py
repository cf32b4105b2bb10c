"""Port ownership on this machine: a real listener, its process read as root."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostkit_catalog.checks.test_network import test_dir_empty as dir_empty
from hostkit_catalog.checks.test_network import test_file_absent as file_absent
from hostkit_catalog.checks.test_network import test_port_owner as port_owner
from hostkit_catalog.remediations import network
from kit.catalog.remediation import Target
from kit.errors import KitError
from kit.facts import gather_facts
from kit.facts.model import Probes
from tests.local.recording import RecordingConnection

SERVE = "import socket,sys,time;s=socket.socket();s.bind(('127.0.0.1',0));s.listen();"
SERVE += "print(s.getsockname()[1],flush=True);time.sleep(120)"


@pytest.fixture
def listener() -> Iterator[tuple[int, str]]:
    """A process outside any service listening on a port: its port and process name."""
    proc = subprocess.Popen([sys.executable, "-c", SERVE], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        name = Path(f"/proc/{proc.pid}/comm").read_text().strip()
        yield port, name
    finally:
        proc.kill()
        proc.wait()


def test_port_owner_passes_for_its_owner_and_names_another(listener):
    port, name = listener
    conn = RecordingConnection()
    facts = gather_facts(conn)
    port_owner(conn, facts, port, name)
    with pytest.raises(
        AssertionError, match=rf"port {port} is held by {name} \(pid \d+.*not kubelet"
    ):
        port_owner(conn, facts, port, "kubelet")


def test_port_owner_fails_when_nothing_listens():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conn = RecordingConnection()
    with pytest.raises(AssertionError, match=f"nothing listens on port {port}; expected etcd"):
        port_owner(conn, gather_facts(conn), port, "etcd")


def test_free_port_never_stops_the_ports_expected_owner(listener):
    port, name = listener
    conn = RecordingConnection()
    target = Target(conn, gather_facts(RecordingConnection()))
    with pytest.raises(KitError, match=rf"held by {name} .*its expected owner {name}: not stop"):
        network.free_port(target, port, name)
    assert not conn.writes()
    assert network.port_holders(conn, port), "the owner still listens"


def test_free_port_still_refuses_a_process_outside_a_service(listener):
    port, _ = listener
    conn = RecordingConnection()
    with pytest.raises(KitError, match="which no service owns"):
        network.free_port(Target(conn, gather_facts(conn)), port, "kubelet")


def test_dir_empty_reads_the_directory(tmp_path):
    empty, full, absent = tmp_path / "empty", tmp_path / "full", tmp_path / "absent"
    empty.mkdir()
    full.mkdir()
    (full / "member").write_text("x")
    conn = RecordingConnection()
    paths = tuple(str(p) for p in (empty, full, absent, full / "member"))
    facts = gather_facts(conn, probes=Probes(files=paths))
    dir_empty(conn, facts, str(empty))
    dir_empty(conn, facts, str(absent))
    with pytest.raises(AssertionError, match=r"full is not empty \(member\)"):
        dir_empty(conn, facts, str(full))
    with pytest.raises(AssertionError, match="is a regular file, not a directory"):
        dir_empty(conn, facts, str(full / "member"))


def test_file_absent_fails_on_a_file_left_behind(tmp_path):
    left = tmp_path / "kubelet.conf"
    left.write_text("apiVersion: v1\n")
    conn = RecordingConnection()
    facts = gather_facts(conn, probes=Probes(files=(str(left), str(tmp_path / "gone"))))
    file_absent(facts, str(tmp_path / "gone"))
    with pytest.raises(AssertionError, match=r"kubelet\.conf already exists \(regular file\)"):
        file_absent(facts, str(left))
