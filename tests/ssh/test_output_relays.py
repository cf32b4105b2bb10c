"""The relays that carry a command's output through the long-lived shell, against a real sshd.

They live across commands (kit/connection/session.py); these tests hold them to what
restarting them for every command gave: output that arrives after its command ended
never reaches a later command's, whatever holds it open, and a relay that is gone or
used up is replaced before a command needs it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.connection import Connection, session
from kit.errors import HostUnreachable
from tests.ssh import sshd


def test_late_output_of_a_job_in_a_session_of_its_own_stays_out(conn: Connection) -> None:
    # setsid takes the job out of its command's process group: only the relays see it
    # still holds the command's output when the command ends.
    first = conn.run("setsid sh -c 'sleep 1; echo LATE; echo LATE-ERR >&2' &")
    assert (first.rc, first.stdout, first.stderr) == (0, "", "")
    second = conn.run("sleep 2; echo mine; echo mine-err >&2")
    assert (second.stdout, second.stderr) == ("mine\n", "mine-err\n")
    assert conn.run("echo after").stdout == "after\n"


def test_late_output_after_a_quiet_command_stays_out(conn: Connection) -> None:
    # The job's command ran another before it; the job writes only once both are done.
    assert conn.run("echo before").stdout == "before\n"
    assert conn.run("(sleep 1; echo LATE) &").stdout == ""
    assert conn.run("echo between").stdout == "between\n"
    assert conn.run("sleep 2; echo mine").stdout == "mine\n"


def test_used_up_relays_are_replaced(connect, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session, "_DOUBLINGS", 1)  # a relay serves 2 commands
    conn = connect()
    for i in range(7):
        result = conn.run("echo out-%s; echo err-%s >&2", i, i, timeout=10)
        assert (result.rc, result.stdout, result.stderr) == (0, f"out-{i}\n", f"err-{i}\n")


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(p) for p in (task / "children").read_text().split()]
    return found


@pytest.mark.skipif(os.geteuid() != 0, reason="kills the test user's processes")
def test_relays_killed_between_commands_are_replaced(conn: Connection) -> None:
    # The shell runs each command as a child of its own; between commands its only
    # children are the relays.
    shell = int(conn.run("echo $PPID").check().stdout)
    relays = _children(shell)
    assert len(relays) == 2, relays
    for pid in relays:
        os.kill(pid, signal.SIGKILL)
    # Killed between commands: the signal is delivered when the relay is next scheduled,
    # which on busy cores may be after the next command has begun.
    deadline = time.monotonic() + 10
    while not all(_gone(pid) for pid in relays):
        assert time.monotonic() < deadline, "the killed relays did not end"
        time.sleep(0.01)
    result = conn.run("echo out; echo err >&2", timeout=10)
    assert (result.rc, result.stdout, result.stderr) == (0, "out\n", "err\n")
    assert not set(relays) & set(_children(shell))


def _gone(pid: int) -> bool:
    """Whether pid has ended (a zombie no one reaped yet counts as ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _wait_gone(pids: list[int], limit: float = 10.0) -> bool:
    deadline = time.monotonic() + limit
    while not all(_gone(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return all(_gone(p) for p in pids)


def _kill_the_shell(conn: Connection) -> None:
    """Kill the long-lived shell with SIGKILL from a command of its own, as its trap cannot run."""
    failed: list[BaseException] = []

    def attempt() -> None:
        try:
            conn.run("kill -KILL $PPID; sleep 1")
        except BaseException as exc:
            failed.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "the command whose shell died hung"
    [error] = failed
    assert isinstance(error, HostUnreachable), error


@pytest.mark.skipif(os.geteuid() != 0, reason="reads the test user's processes")
def test_relays_die_with_a_killed_shell(conn: Connection) -> None:
    shell = int(conn.run("echo $PPID").check().stdout)
    relays = _children(shell)
    assert len(relays) == 2, relays
    _kill_the_shell(conn)
    assert _wait_gone(relays), "the relays outlived their shell"
    assert conn.run("echo fresh").stdout == "fresh\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="kills the test user's processes")
def test_a_killed_shell_fails_its_command_even_where_relays_outlive_it(
    connect, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session, "_PDEATHSIG", "")  # as on a host whose setpriv cannot
    conn = connect()
    shell = int(conn.run("echo $PPID").check().stdout)
    relays = _children(shell)
    assert len(relays) == 2, relays
    try:
        # They hold the channel's streams open: the shell's exit status ends the command.
        _kill_the_shell(conn)
        assert conn.run("echo fresh").stdout == "fresh\n"
    finally:
        for pid in relays:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def no_temporary_directory(server: sshd.Sshd) -> Iterator[str]:
    """NOPASSWD_USER's sessions get a TMPDIR that does not exist, so mktemp fails."""
    bashrc = Path(f"/home/{sshd.NOPASSWD_USER}/.bashrc")
    before = bashrc.read_text()
    bashrc.write_text(before + "export TMPDIR=/nonexistent/hostkit-test\n")
    try:
        yield sshd.NOPASSWD_USER
    finally:
        bashrc.write_text(before)


def test_without_fifos_commands_write_to_the_channel(connect, no_temporary_directory) -> None:
    conn = connect(no_temporary_directory)
    shell = int(conn.run("echo $PPID").check().stdout)
    for i in range(3):
        result = conn.run("echo out-%s; echo err-%s >&2; exit %s", i, i, i, timeout=10)
        assert (result.rc, result.stdout, result.stderr) == (i, f"out-{i}\n", f"err-{i}\n")
    assert _children(shell) == []  # no relays
