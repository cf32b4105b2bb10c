"""The local connection over a real /bin/sh, writing only under temporary directories.

Every test here runs over local:// and over nsenter:// into a disposable container
(tests/local/enterable.py), whose /tmp is this machine's: the same contract, both ways.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import kit
from kit.connection import Connection
from kit.errors import CommandError, CommandNotStarted, CommandTimeout, KitValueError
from tests.local import enterable


@pytest.fixture(scope="module", params=["local", "nsenter"])
def spec(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "local":
        yield "local://"
        return
    with enterable.container(tmp_path_factory.mktemp("enterable")) as made:
        yield made.spec


@pytest.fixture
def conn(spec: str) -> Connection:
    with kit.connect(spec) as c:
        yield c


def _alive(conn: Connection, pid: int) -> bool:
    """Whether pid runs, not as a zombie, as the connection's host numbers its processes."""
    res = conn.run(
        's=$(cat /proc/%s/stat 2>/dev/null) || exit 1; set -- ${s##*) }; [ "$1" != Z ]', pid
    )
    return res.ok


def test_exit_code_and_streams(conn: Connection) -> None:
    result = conn.run("printf out; printf err >&2; exit 5")
    assert (result.rc, result.stdout_bytes, result.stderr_bytes) == (5, b"out", b"err")
    assert result.command == "printf out; printf err >&2; exit 5"
    assert result.duration >= 0
    with pytest.raises(CommandError):
        result.check()


def test_stdin_text_and_bytes(conn: Connection) -> None:
    assert conn.run("cat", stdin="héllo").stdout == "héllo"
    assert conn.run("cat", stdin=b"\x00\xff").stdout_bytes == b"\x00\xff"
    assert conn.run("cat").stdout_bytes == b""  # no stdin means /dev/null, never a hang


def test_env_is_exported_and_names_are_checked(conn: Connection) -> None:
    assert conn.run('printf %s "$HK_X"', env={"HK_X": "a'b $c"}).stdout == "a'b $c"
    with pytest.raises(KitValueError):
        conn.run("true", env={"BAD-NAME": "x"})


def test_large_output_on_both_streams(conn: Connection) -> None:
    result = conn.run("head -c 10000000 /dev/zero; head -c 10000000 /dev/zero >&2")
    assert len(result.stdout_bytes) == len(result.stderr_bytes) == 10_000_000


def test_timeout_kills_the_process_group(conn: Connection, tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    started = time.monotonic()
    with pytest.raises(CommandTimeout):
        conn.run("sleep 300 & echo $! > %s; wait", pidfile, timeout=1)
    assert time.monotonic() - started < 5
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(conn, pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(conn, pid), "the child outlived the timeout"


def test_command_timeout_option(spec: str) -> None:
    with kit.connect(spec, command_timeout=0.5) as conn, pytest.raises(CommandTimeout):
        conn.run("sleep 30")


def test_put_is_atomic_keeps_mode_and_leaves_no_temp(conn: Connection, tmp_path: Path) -> None:
    dest = tmp_path / "f"
    conn.put(b"one", str(dest), mode=0o600)
    assert dest.read_bytes() == b"one"
    assert dest.stat().st_mode & 0o777 == 0o600
    inode = dest.stat().st_ino
    conn.put(b"two", str(dest))
    assert dest.read_bytes() == b"two"
    assert dest.stat().st_mode & 0o777 == 0o600  # kept from the file it replaced
    assert dest.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert sorted(os.listdir(tmp_path)) == ["f"]


def test_put_into_a_missing_directory_fails_cleanly(conn: Connection, tmp_path: Path) -> None:
    with pytest.raises(CommandError):
        conn.put(b"x", str(tmp_path / "absent" / "f"))


@pytest.mark.parametrize("path", ["", "a\0b"])
def test_bad_paths_are_refused(conn: Connection, path: str) -> None:
    with pytest.raises(KitValueError):
        conn.put(b"x", path)
    with pytest.raises(KitValueError):
        conn.get(path)


@pytest.mark.parametrize("mode", ["777x", "9", 0o10000, "rwx"])
def test_bad_modes_are_refused(conn: Connection, tmp_path: Path, mode) -> None:
    with pytest.raises(KitValueError):
        conn.put(b"x", str(tmp_path / "f"), mode=mode)
    assert not (tmp_path / "f").exists()


def test_get_of_a_missing_file_raises(conn: Connection, tmp_path: Path) -> None:
    with pytest.raises(CommandError) as caught:
        conn.get(str(tmp_path / "absent"))
    assert "absent" in str(caught.value)


@pytest.mark.skipif(os.geteuid() != 0, reason="sudo as root runs the command directly")
def test_sudo_as_root_runs_directly(conn: Connection) -> None:
    result = conn.run("id -u", sudo=True)
    assert result.stdout == "0\n"


def test_an_argument_too_long_is_a_clear_error(conn: Connection) -> None:
    with pytest.raises(CommandNotStarted, match="could not start"):
        conn.run("echo %s", "x" * 200_000)
    with pytest.raises(CommandNotStarted):
        conn.run("echo %s", "x" * 200_000, timeout=10)
