"""sudo over SSH: the password travels on stdin only and never shows anywhere."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from kit.connection import Connection, FromCallable, Result
from kit.errors import CommandTimeout, SudoError
from tests.ssh import sshd


def test_sudo_with_the_right_password(conn: Connection, server: sshd.Sshd) -> None:
    result = conn.run("id -u; echo to-err >&2", sudo=True)
    assert (result.rc, result.stdout, result.stderr) == (0, "0\n", "to-err\n")
    assert server.users[sshd.USER] not in repr(result)


def test_sudo_keeps_exit_code_and_stdin(conn: Connection, server: sshd.Sshd) -> None:
    result = conn.run("cat; exit 4", sudo=True, stdin=b"payload\x00")
    assert (result.rc, result.stdout_bytes, result.stderr_bytes) == (4, b"payload\x00", b"")


def test_sudo_as_another_user(connect, server: sshd.Sshd) -> None:
    conn = connect(sudo_user=sshd.NOPASSWD_USER)
    assert conn.run("id -un", sudo=True).stdout == sshd.NOPASSWD_USER + "\n"


def test_wrong_password_raises_sudo_error_promptly(connect, server: sshd.Sshd) -> None:
    wrong = "not-the-" + server.users[sshd.USER]
    conn = connect(sudo_password=FromCallable(lambda: wrong))
    outcome: list[BaseException | Result] = []

    def attempt() -> None:
        try:
            outcome.append(conn.run("id -u", sudo=True))
        except BaseException as exc:
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "sudo with a wrong password hung"
    assert time.monotonic() - started < 30
    [error] = outcome
    assert isinstance(error, SudoError)
    assert "incorrect password" in str(error)
    assert wrong not in str(error) and wrong not in repr(error)
    assert server.users[sshd.USER] not in str(error)


def test_wrong_password_within_a_short_timeout(connect, server: sshd.Sshd) -> None:
    conn = connect(sudo_password=FromCallable(lambda: "wrong"))
    started = time.monotonic()
    with pytest.raises((SudoError, CommandTimeout)):
        conn.run("id -u", sudo=True, timeout=8)
    assert time.monotonic() - started < 12


def test_missing_password_is_a_sudo_error(connect) -> None:
    conn = connect(sudo_password=None)
    with pytest.raises(SudoError, match="password is required"):
        conn.run("id -u", sudo=True)


def test_nopasswd_user_needs_no_password(connect) -> None:
    conn = connect(sshd.NOPASSWD_USER)
    result = conn.run("id -u; printf x >&2", sudo=True)
    assert (result.stdout, result.stderr) == ("0\n", "x")


def test_password_never_in_ps_result_or_log(
    conn: Connection, server: sshd.Sshd, caplog: pytest.LogCaptureFixture
) -> None:
    password = server.users[sshd.USER]
    caplog.set_level("DEBUG")
    seen_command = False
    seen_password: list[str] = []
    results: list[Result] = []
    worker = threading.Thread(
        target=lambda: results.append(conn.run("sleep 2.317; echo done", sudo=True))
    )
    worker.start()
    while worker.is_alive():
        # The host is this machine, so its ps lists the remote commands.
        args = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
        seen_command = seen_command or "sleep 2.317" in args
        seen_password += [line for line in args.splitlines() if password in line]
        time.sleep(0.02)
    worker.join()
    assert seen_command, "ps never showed the command, so the check proved nothing"
    assert seen_password == []
    [result] = results
    assert result.stdout == "done\n"
    assert password not in repr(result)
    assert password not in caplog.text
    assert password not in server.log_text()


def test_sudo_timeout_kills_the_root_command(conn: Connection) -> None:
    pidfile = conn.run('mktemp -p "$HOME"').check().stdout.strip()
    conn.run("chmod 666 %s", pidfile).check()
    with pytest.raises(CommandTimeout):
        conn.run("sleep 300 & echo $! > %s; wait", pidfile, sudo=True, timeout=2)
    pid = int(Path(pidfile).read_text())
    deadline = time.monotonic() + 5
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists(), f"root's sleep {pid} outlived the timeout"


@pytest.fixture
def root_only_dir():
    # Owned by root, closed to the test user: only sudo can write there.
    path = Path(tempfile.mkdtemp(prefix="hostkit-rootonly-"))
    os.chmod(path, 0o711)
    yield path
    subprocess.run(["rm", "-rf", str(path)], check=True)


def test_put_and_get_with_sudo_on_root_owned_paths(conn: Connection, root_only_dir: Path) -> None:
    dest = str(root_only_dir / "config")
    with pytest.raises(Exception):  # noqa: B017 - any failure: the user may not write here
        conn.put(b"x", dest)
    conn.put(b"secret-free\nbytes\xff", dest, mode="0600", sudo=True)
    st = os.stat(dest)
    assert (st.st_uid, st.st_mode & 0o777) == (0, 0o600)
    assert conn.get(dest, sudo=True) == b"secret-free\nbytes\xff"
