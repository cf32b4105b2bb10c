"""A dropped transport: the next command reconnects, the one in flight fails and is not repeated."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from kit.connection import Connection
from kit.errors import HostUnreachable, WriteInterrupted
from tests.ssh import sshd


def _sshd_serving(conn: Connection) -> int:
    """The sshd process behind this connection: the parent of the shell running commands."""
    shell = int(conn.run("echo $PPID").stdout)
    status = Path(f"/proc/{shell}/status").read_text()
    pid = int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("PPid:")))
    assert Path(f"/proc/{pid}/comm").read_text().startswith("sshd"), "not an sshd process"
    return pid


def _drop(conn: Connection) -> None:
    os.kill(_sshd_serving(conn), signal.SIGKILL)


def _wait_down(conn, limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while conn.connected and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not conn.connected


def test_killed_connection_then_a_command_succeeds(conn: Connection, server: sshd.Sshd) -> None:
    before = conn.run("echo $PPID").stdout
    _drop(conn)
    _wait_down(conn)
    result = conn.run("echo back; echo $PPID")
    assert result.stdout.startswith("back\n")
    assert result.stdout.split()[1] != before.strip()  # a new shell on a new transport
    assert conn.connected


def test_command_in_flight_fails_and_is_not_repeated(conn: Connection) -> None:
    counter = conn.run('mktemp -p "$HOME"').check().stdout.strip()
    target = _sshd_serving(conn)
    errors: list[BaseException] = []

    def slow() -> None:
        try:
            conn.run("echo x >> %s; sleep 3", counter)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=slow)
    worker.start()
    deadline = time.monotonic() + 5
    while Path(counter).read_text() == "" and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(target, signal.SIGKILL)
    worker.join(20)
    [error] = errors
    assert isinstance(error, HostUnreachable)
    assert "not repeated" in str(error)
    assert conn.run("echo ok").stdout == "ok\n"
    time.sleep(0.2)
    assert Path(counter).read_text() == "x\n"  # ran once, never again


def test_put_in_flight_raises_write_interrupted(conn: Connection, tmp_path: Path) -> None:
    folder = conn.run('mktemp -d -p "$HOME"').check().stdout.strip()
    dest = f"{folder}/file"
    conn.put(b"old content", dest)
    target = _sshd_serving(conn)
    seen = threading.Event()

    def watch() -> None:
        # Drop the connection once the temporary file shows the write is under way.
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if any(n.startswith(".hostkit.") for n in os.listdir(folder)):
                os.kill(target, signal.SIGKILL)
                seen.set()
                return
            time.sleep(0.001)

    watcher = threading.Thread(target=watch)
    watcher.start()
    with pytest.raises(WriteInterrupted) as caught:
        conn.put(os.urandom(200_000_000), dest)
    watcher.join()
    assert seen.is_set()
    assert "not repeated" in str(caught.value)
    time.sleep(1)  # whatever the remote side still does with the cut stream, it has done
    assert Path(dest).read_bytes() == b"old content"
    assert conn.get(dest) == b"old content"
    # The shell that was writing died of SIGPIPE, not in its EXIT trap; it still cleans up.
    deadline = time.monotonic() + 10
    while any(n.startswith(".hostkit.") for n in os.listdir(folder)):
        assert time.monotonic() < deadline, "the temporary file was left behind"
        time.sleep(0.05)
