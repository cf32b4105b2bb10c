"""put over SSH: no temporary file outlives an interrupted write, and mode bits survive."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.connection import Connection
from kit.errors import CommandTimeout


def _temporaries(folder: Path) -> list[str]:
    return [n for n in os.listdir(folder) if n.startswith(".hostkit.")]


def _settle(folder: Path, limit: float = 10) -> list[str]:
    deadline = time.monotonic() + limit
    while _temporaries(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    return _temporaries(folder)


@pytest.fixture
def root_dir() -> Iterator[Path]:
    # Owned by root, closed to the test user: only sudo can write there.
    path = Path(tempfile.mkdtemp(prefix="hostkit-put-"))
    os.chmod(path, 0o711)
    yield path
    shutil.rmtree(path)


@pytest.mark.parametrize("sudo", [False, True], ids=["user", "sudo"])
def test_a_timeout_mid_transfer_leaves_no_temporary_file(
    connect, root_dir: Path, sudo: bool
) -> None:
    conn = connect(command_timeout=1)
    folder = Path(conn.run('mktemp -d -p "$HOME"').check().stdout.strip())
    if sudo:
        folder = root_dir
    dest = folder / "f"
    dest.write_bytes(b"old")
    seen: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set() and not seen:
            seen.extend(_temporaries(folder))
            time.sleep(0.002)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with pytest.raises(CommandTimeout):
            conn.put(os.urandom(300_000_000), str(dest), sudo=sudo)
    finally:
        done.set()
        watcher.join()
    assert seen, "the timeout came before the transfer: proves nothing"
    assert _settle(folder) == []
    assert dest.read_bytes() == b"old"


def test_a_later_write_removes_stale_temporary_files(conn: Connection, root_dir: Path) -> None:
    hour_ago = time.time() - 3600
    stale = root_dir / ".hostkit.4194000.AbC123xY"
    stale.write_bytes(b"partial")
    os.utime(stale, (hour_ago, hour_ago))
    mine = root_dir / ".hostkit-notes"
    mine.write_bytes(b"keep")
    conn.put(b"new", str(root_dir / "f"), sudo=True)
    assert sorted(os.listdir(root_dir)) == [".hostkit-notes", "f"]


@pytest.mark.parametrize("mode", [0o4755, 0o2755], ids=oct)
def test_a_rewrite_with_sudo_keeps_setuid_and_setgid(
    conn: Connection, root_dir: Path, mode: int
) -> None:
    dest = root_dir / "tool"
    dest.write_bytes(b"old")
    os.chmod(dest, mode)
    conn.put(b"new", str(dest), sudo=True)
    assert (dest.read_bytes(), oct(dest.stat().st_mode & 0o7777)) == (b"new", oct(mode))


def test_setuid_for_another_owner_survives_the_chown(conn: Connection, root_dir: Path) -> None:
    dest = root_dir / "tool"
    conn.put(b"x", str(dest), mode="4755", owner="nobody", sudo=True)
    st = dest.stat()
    assert (oct(st.st_mode & 0o7777), st.st_uid) == ("0o4755", pwd.getpwnam("nobody").pw_uid)
