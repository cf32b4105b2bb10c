"""The fix lock, taken as root over a real sshd, never writes through a link it did not make.

A user who can create the lock directory before the kit does (or who owns it) could plant
links at the lock's file names pointing at a file only root may change; the lock must
refuse such a directory, and in a directory of its own must replace or ignore a planted
link, never write through it."""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.errors import KitError, KitValueError
from kit.runner.hostlock import HostLock
from tests.ssh import sshd

NAMES = ("fix.owner.tmp", "fix.lock.guard", "fix.owner")
PRECIOUS = "precious, root's only\n"


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A root-owned directory the throwaway user can reach (pytest's own is root's only)."""
    path = Path(tempfile.mkdtemp(prefix="hostkit-lock-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture
def victim(tmp_path: Path) -> Path:
    """A file only root may change, and a place where a link could make root create one."""
    path = tmp_path / "victim"
    path.write_text(PRECIOUS)
    path.chmod(0o644)
    return path


def untouched(victim: Path, before: os.stat_result) -> bool:
    after = victim.stat()
    return victim.read_text() == PRECIOUS and (after.st_mtime_ns, after.st_ino) == (
        before.st_mtime_ns,
        before.st_ino,
    )


def plant(conn, directory: Path, victim: Path) -> None:
    """Links at every name the lock uses: to the victim, and to a file root would create."""
    for name in NAMES:
        target = victim if name != "fix.lock.guard" else victim.with_name("created-by-root")
        conn.run("ln -s -- %s %s", str(target), str(directory / name)).check()


def test_a_lock_directory_owned_by_another_user_is_refused(connect, victim, tmp_path):
    lock_dir = tmp_path / "lock"
    lock_dir.mkdir(mode=0o755)
    os.chown(lock_dir, pwd.getpwnam(sshd.USER).pw_uid, -1)
    attacker = connect(sshd.USER)  # no sudo: what the throwaway user can do by itself
    plant(attacker, lock_dir, victim)
    before = victim.stat()
    lock = HostLock(connect(sshd.NOPASSWD_USER), "run-one", str(lock_dir))
    with pytest.raises(KitError) as info:
        lock.acquire(timeout=0)
    message = str(info.value)
    assert f"refusing the fix lock directory {lock_dir}" in message
    assert f"owned by {sshd.USER}" in message or f"uid {pwd.getpwnam(sshd.USER).pw_uid}" in message
    assert not lock.held
    assert untouched(victim, before)
    assert not victim.with_name("created-by-root").exists()
    assert sorted(os.listdir(lock_dir)) == sorted(NAMES)  # nothing added, nothing replaced
    assert all((lock_dir / name).is_symlink() for name in NAMES)


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777, 0o757])
def test_a_lock_directory_others_may_write_to_is_refused(connect, victim, tmp_path, mode):
    lock_dir = tmp_path / "lock"
    lock_dir.mkdir()
    lock_dir.chmod(mode)
    with pytest.raises(KitError, match=f"refusing the fix lock directory {lock_dir}: mode"):
        HostLock(connect(sshd.NOPASSWD_USER), "run-one", str(lock_dir)).acquire(timeout=0)
    assert os.listdir(lock_dir) == []


@pytest.mark.parametrize("slash", ["", "/", "/."], ids=["plain", "slash", "dot"])
def test_a_lock_directory_that_is_a_link_is_refused(connect, victim, tmp_path, slash):
    real = tmp_path / "elsewhere"
    real.mkdir(mode=0o755)  # root's, 0755: only the link is wrong
    lock_dir = tmp_path / "lock"
    lock_dir.symlink_to(real)
    with pytest.raises(KitError, match=f"refusing the fix lock directory {lock_dir}: .*link"):
        HostLock(connect(sshd.NOPASSWD_USER), "run-one", f"{lock_dir}{slash}").acquire(timeout=0)
    assert os.listdir(real) == []


@pytest.mark.parametrize("directory", ["run/hostkit", "", "/run/../tmp/x", "/run/hostkit\n"])
def test_a_lock_directory_must_be_an_absolute_clean_path(directory):
    with pytest.raises(KitValueError, match="fix lock directory"):
        HostLock(None, "run-one", directory)  # type: ignore[arg-type]


def test_links_in_roots_own_lock_directory_are_never_written_through(connect, victim, tmp_path):
    lock_dir = tmp_path / "lock"
    lock_dir.mkdir(mode=0o755)
    for name in NAMES:
        target = victim if name != "fix.lock.guard" else victim.with_name("created-by-root")
        (lock_dir / name).symlink_to(target)
    before = victim.stat()
    lock = HostLock(connect(sshd.NOPASSWD_USER), "run-one", str(lock_dir))
    lock.acquire(timeout=0)
    assert lock.held
    owner = lock_dir / "fix.owner"
    assert not owner.is_symlink() and owner.read_text().split()[0] == "run-one"
    assert owner.stat().st_uid == 0
    lock.release()
    assert not owner.exists()
    assert untouched(victim, before)
    assert not victim.with_name("created-by-root").exists()
