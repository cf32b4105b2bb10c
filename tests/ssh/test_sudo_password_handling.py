"""The sudo password goes only where sudo asks for it, and no traceback can print it."""

from __future__ import annotations

import shutil
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
from _pytest._code import ExceptionInfo

from kit.connection import Connection
from kit.errors import CommandTimeout, HostUnreachable
from tests.ssh import sshd


def _failure(action: Callable[[], object]) -> BaseException:
    # The traceback starts here, so no test frame (which may know the password) is in it.
    try:
        action()
    except Exception as exc:
        return exc
    raise AssertionError("the command did not fail")


def _rendered(exc: BaseException) -> str:
    """The traceback as the standard library and as pytest (--tb=long -l) print it, locals too."""
    plain = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
    pytest_style = str(ExceptionInfo.from_exception(exc).getrepr(showlocals=True, style="long"))
    assert "_exec" in plain and "_exec_sudo" in pytest_style, "frames missing: proves nothing"
    return plain + pytest_style


def _sshd_serving(conn: Connection) -> int:
    shell = int(conn.run("echo $PPID").stdout)
    status = Path(f"/proc/{shell}/status").read_text()
    return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("PPid:")))


def test_password_not_in_traceback_locals_after_a_timeout(
    conn: Connection, server: sshd.Sshd
) -> None:
    exc = _failure(lambda: conn.run("sleep 30", sudo=True, timeout=2))
    assert isinstance(exc, CommandTimeout)
    text = _rendered(exc)
    assert server.users[sshd.USER] not in text


def test_password_not_in_traceback_locals_after_a_dropped_connection(
    conn: Connection, server: sshd.Sshd
) -> None:
    serving = _sshd_serving(conn)
    exc = _failure(lambda: conn.run("sleep 1; kill -KILL %s; sleep 10", serving, sudo=True))
    assert isinstance(exc, HostUnreachable)
    text = _rendered(exc)
    assert server.users[sshd.USER] not in text


@pytest.mark.parametrize("user", [sshd.USER, sshd.NOPASSWD_USER])
def test_a_command_sudo_does_not_ask_for_never_reads_the_password(
    connect, server: sshd.Sshd, user: str
) -> None:
    # USER needs a password except for commands ending in the mark; the other user never does.
    conn = connect(user)
    password = server.users[user]
    result = conn.run("cat; : %s", sshd.NOPASSWD_MARK, sudo=True)
    assert (result.rc, result.stdout, result.stderr) == (0, "", "")
    folder = Path(tempfile.mkdtemp(prefix="hostkit-tee-"))
    try:
        target = folder / "out"
        mark = sshd.NOPASSWD_MARK
        tee = conn.run("tee %s >/dev/null; : %s", target, mark, sudo=True, stdin="x\n")
        assert tee.rc == 0
        assert target.read_bytes() == b"x\n"
        assert password not in target.read_text()
    finally:
        shutil.rmtree(folder)
    # Where sudo does ask, the password still gets it through, and the data follows.
    asked = conn.run("cat", sudo=True, stdin=b"data")
    assert (asked.rc, asked.stdout, asked.stderr) == (0, "data", "")
