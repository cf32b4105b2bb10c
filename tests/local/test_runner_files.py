import hashlib
import os
import stat

import pytest

from kit.errors import KitError, KitValueError
from kit.runner import files
from tests.local.recording import RecordingConnection


@pytest.fixture
def conn():
    return RecordingConnection()


def _mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_mkdirp_creates_parents_with_mode_then_does_nothing(conn, tmp_path):
    target = tmp_path / "a" / "b c"
    plan = files.mkdirp(conn, str(target), mode="0750", dry_run=True)
    assert plan.changed and plan.dry_run and not target.exists()
    assert not conn.writes()
    assert files.mkdirp(conn, str(target), mode="0750").changed
    assert target.is_dir() and _mode(target) == 0o750
    conn.reset()
    assert not files.mkdirp(conn, str(target), mode=0o750).changed
    assert not conn.writes()
    assert files.mkdirp(conn, str(target), mode="0700").summary.endswith("750 -> 700")
    assert _mode(target) == 0o700


def test_mkdirp_refuses_a_file_in_the_way(conn, tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(KitError, match="not a directory"):
        files.mkdirp(conn, str(tmp_path / "f"))


def test_remove_file_and_directory_only_with_recursive(conn, tmp_path):
    (tmp_path / "d" / "e").mkdir(parents=True)
    (tmp_path / "f").write_text("x")
    assert files.remove(conn, str(tmp_path / "f")).changed
    assert not (tmp_path / "f").exists()
    with pytest.raises(KitError, match="recursive"):
        files.remove(conn, str(tmp_path / "d"))
    assert files.remove(conn, str(tmp_path / "d"), recursive=True, dry_run=True).changed
    assert (tmp_path / "d").exists()
    assert files.remove(conn, str(tmp_path / "d"), recursive=True).changed
    conn.reset()
    assert not files.remove(conn, str(tmp_path / "d"), recursive=True).changed
    assert not conn.writes()


def test_remove_refuses_root(conn):
    with pytest.raises(KitValueError):
        files.remove(conn, "/", recursive=True, dry_run=True)


def test_chmod_is_idempotent_and_validates_mode(conn, tmp_path):
    f = tmp_path / "f"
    f.write_text("x")
    f.chmod(0o644)
    assert files.chmod(conn, str(f), "600").changed
    assert _mode(f) == 0o600
    conn.reset()
    assert not files.chmod(conn, str(f), 0o600).changed
    assert not conn.writes()
    with pytest.raises(KitValueError):
        files.chmod(conn, str(f), "u+x")


def test_chown_plain_and_recursive(conn, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    top = tmp_path / "top"
    (top / "sub").mkdir(parents=True)
    (top / "sub" / "f").write_text("x")
    assert files.chown(conn, str(top), "nobody").changed
    assert os.stat(top).st_uid != 0 and os.stat(top / "sub" / "f").st_uid == 0
    change = files.chown(conn, str(top), "nobody", recursive=True)
    assert change.changed
    nobody = os.stat(top).st_uid
    assert os.stat(top / "sub" / "f").st_uid == nobody
    conn.reset()
    assert not files.chown(conn, str(top), "nobody", recursive=True).changed
    assert not files.chown(conn, str(top), str(nobody)).changed
    assert not conn.writes()
    with pytest.raises(KitValueError):
        files.chown(conn, str(top), "bad;name")


def test_get_sha256_matches_hashlib(conn, tmp_path):
    f = tmp_path / "with space"
    f.write_bytes(b"\x00\x01 data\n")
    assert files.get_sha256(conn, str(f)) == hashlib.sha256(b"\x00\x01 data\n").hexdigest()


def test_look_path_finds_executables_and_not_builtins(conn):
    sh = files.look_path(conn, "sh")
    assert sh is not None and os.access(sh, os.X_OK)
    assert files.look_path(conn, "no-such-command-hostkit") is None
    assert files.look_path(conn, "cd") is None
    with pytest.raises(KitValueError):
        files.look_path(conn, "sh; reboot")


def test_create_symlink_creates_replaces_and_refuses(conn, tmp_path):
    link = tmp_path / "current"
    assert files.create_symlink(conn, "v1", str(link), dry_run=True).changed
    assert not link.is_symlink() and not conn.writes()
    assert files.create_symlink(conn, "v1", str(link)).changed
    assert os.readlink(link) == "v1"
    conn.reset()
    assert not files.create_symlink(conn, "v1", str(link)).changed
    assert not conn.writes()
    change = files.create_symlink(conn, "/opt/v2 dir", str(link))
    assert "was -> v1" in change.summary and os.readlink(link) == "/opt/v2 dir"
    plain = tmp_path / "plain"
    plain.write_text("x")
    with pytest.raises(KitError, match="file"):
        files.create_symlink(conn, "v1", str(plain))
    assert files.create_symlink(conn, "v1", str(plain), force=True).changed
    assert os.readlink(plain) == "v1"
    with pytest.raises(KitError, match="directory"):
        files.create_symlink(conn, "v1", str(tmp_path), force=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current", "plain"]
