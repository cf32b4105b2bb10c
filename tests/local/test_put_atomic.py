"""put's temporary files and mode bits, on this machine under temporary directories."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import kit
from kit.connection import Connection

ROOT = os.geteuid() == 0
HOUR_AGO = time.time() - 3600


@pytest.fixture
def conn() -> Connection:
    with kit.connect("local://") as c:
        yield c


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _aged(path: Path, content: bytes = b"partial") -> Path:
    path.write_bytes(content)
    os.utime(path, (HOUR_AGO, HOUR_AGO))
    return path


def test_a_later_write_removes_only_our_stale_temporary_files(
    conn: Connection, tmp_path: Path
) -> None:
    dead, alive = _dead_pid(), os.getpid()
    stale = [
        _aged(tmp_path / ".hostkit.AbC123xY"),  # an earlier version's name
        _aged(tmp_path / f".hostkit.{dead}.AbC123xY"),
    ]
    kept = [
        _aged(tmp_path / f".hostkit.{alive}.AbC123xY"),  # its writer still runs
        tmp_path / f".hostkit.{dead}.ZZZ123xY",  # recent: may still be in use
        _aged(tmp_path / ".hostkit.conf"),  # not a name put makes
        _aged(tmp_path / ".hostkit.12.short"),
        _aged(tmp_path / "other"),
    ]
    kept[1].write_bytes(b"recent")
    (tmp_path / ".hostkit.DirDirDi").mkdir()
    conn.put(b"new", str(tmp_path / "f"))
    assert (tmp_path / "f").read_bytes() == b"new"
    assert [p for p in stale if p.exists()] == []
    assert [p for p in kept if not p.exists()] == []
    assert (tmp_path / ".hostkit.DirDirDi").is_dir()


_CONTROLLER = textwrap.dedent(
    """
    import sys, kit
    with kit.connect("local://") as conn:
        conn.put(b"y" * 400_000_000, sys.argv[1])
    """
)


def test_a_killed_controller_leaves_no_temporary_file(tmp_path: Path) -> None:
    dest = tmp_path / "f"
    dest.write_bytes(b"old")
    cwd = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen([sys.executable, "-c", _CONTROLLER, str(dest)], cwd=cwd)
    try:
        deadline = time.monotonic() + 30
        while not any(n.startswith(".hostkit.") for n in os.listdir(tmp_path)):
            assert time.monotonic() < deadline, "the transfer never started"
            assert proc.poll() is None, "the controller ended early"
            time.sleep(0.001)
        # Stopped first, so the transfer is surely cut in the middle; then killed.
        os.kill(proc.pid, signal.SIGSTOP)
        assert dest.read_bytes() == b"old"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 10
    while sorted(os.listdir(tmp_path)) != ["f"] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(os.listdir(tmp_path)) == ["f"]
    assert dest.read_bytes() == b"old"


@pytest.mark.skipif(not ROOT, reason="setuid files and chown to another user need root")
@pytest.mark.parametrize("mode", [0o4755, 0o2755, 0o1755, 0o6711], ids=oct)
def test_a_rewrite_keeps_special_mode_bits(conn: Connection, tmp_path: Path, mode: int) -> None:
    dest = tmp_path / "tool"
    dest.write_bytes(b"old")
    os.chmod(dest, mode)
    conn.put(b"new", str(dest))
    assert dest.read_bytes() == b"new"
    assert oct(dest.stat().st_mode & 0o7777) == oct(mode)


@pytest.mark.skipif(not ROOT, reason="chown to another user needs root")
def test_setuid_mode_with_another_owner_is_applied_after_the_owner(
    conn: Connection, tmp_path: Path
) -> None:
    dest = tmp_path / "tool"
    conn.put(b"x", str(dest), mode="4755", owner="nobody", group="nogroup")
    st = dest.stat()
    assert (oct(st.st_mode & 0o7777), st.st_uid) == ("0o4755", pwd.getpwnam("nobody").pw_uid)


def test_a_link_to_a_directory_at_the_destination_is_replaced_not_written_into(
    conn: Connection, tmp_path: Path
) -> None:
    # mv without -T follows a final link to a directory and drops the file inside it.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dest = tmp_path / "f.conf"
    dest.symlink_to(elsewhere)
    conn.put(b"new\n", str(dest))
    assert not dest.is_symlink()
    assert dest.read_bytes() == b"new\n"
    assert list(elsewhere.iterdir()) == []
