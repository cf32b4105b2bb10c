"""Users on this machine: reads, dry runs, already-compliant calls; sudoers in a temp dir."""

from __future__ import annotations

import pwd

import pytest

from kit.errors import KitValueError
from kit.runner import users
from tests.local.recording import RecordingConnection

HASH = "$6$saltsalt$" + "a" * 86
NOBODY = "hostkit-nouser"


@pytest.fixture
def conn():
    return RecordingConnection()


def test_exists(conn):
    assert users.user_exists(conn, "root")
    assert not users.user_exists(conn, NOBODY)
    assert users.group_exists(conn, "root")
    assert not users.group_exists(conn, NOBODY)


def test_existing_user_and_group_send_no_write(conn):
    assert not users.add_user(conn, "root").changed
    assert not users.add_group(conn, "root").changed
    assert not conn.sent_any("useradd", "groupadd")


def test_add_dry_run_creates_nothing(conn):
    assert users.add_user(conn, NOBODY, shell="/bin/sh", dry_run=True).changed
    assert users.add_group(conn, NOBODY, system=True, dry_run=True).changed
    assert not conn.sent_any("useradd", "groupadd")
    assert not users.user_exists(conn, NOBODY)


def test_modify_user_compares_first(conn):
    root = pwd.getpwnam("root")
    same = users.UserModifications(group="root", add_groups=("root",), shell=root.pw_shell)
    assert not users.modify_user(conn, "root", same).changed
    plan = users.modify_user(
        conn, "root", users.UserModifications(shell="/bin/hostkit-sh"), dry_run=True
    )
    assert plan.changed and plan.summary == "user root: shell /bin/hostkit-sh"
    assert not conn.sent_any("usermod")


def test_modify_missing_user_is_a_clear_error(conn):
    with pytest.raises(users.UserMissing, match=NOBODY):
        users.modify_user(conn, NOBODY, users.UserModifications(shell="/bin/sh"))


def test_password_dry_run_never_shows_the_hash(conn):
    plan = users.set_user_password(conn, "root", HASH, dry_run=True)
    assert plan.changed
    assert HASH not in str(plan) + plan.diff
    assert not any(HASH in c for c in conn.sent)
    assert not conn.sent_any("chpasswd")


def test_a_malformed_hash_is_refused_without_echoing_it(conn):
    with pytest.raises(KitValueError) as info:
        users.set_user_password(conn, "root", "plaintext-secret")
    assert "plaintext-secret" not in str(info.value)
    assert conn.sent == []


@pytest.mark.parametrize("bad", ["Root", "a b", "x;id", "-r", ""])
def test_bad_user_names_are_refused_first(conn, bad):
    with pytest.raises(KitValueError, match="user name"):
        users.add_user(conn, bad)
    assert conn.sent == []


def test_sudoer_is_validated_installed_once_with_mode_0440(conn, tmp_path):
    content = "deploy ALL=(ALL) NOPASSWD: /usr/bin/true\n"
    change = users.configure_sudoer(conn, "deploy", content, directory=str(tmp_path))
    assert change.changed and "content not shown: it is not world-readable" in change.diff
    assert "deploy ALL" not in change.diff
    dest = tmp_path / "deploy"
    assert dest.read_text() == content
    assert oct(dest.stat().st_mode & 0o777) == "0o440"
    assert [p.name for p in tmp_path.iterdir()] == ["deploy"]
    sent = len(conn.sent)
    assert not users.configure_sudoer(conn, "deploy", content, directory=str(tmp_path)).changed
    assert len(conn.sent) == sent + 1


@pytest.mark.parametrize("dry_run", [False, True])
def test_invalid_sudoer_never_lands(conn, tmp_path, dry_run):
    with pytest.raises(users.SudoersInvalid, match="visudo"):
        users.configure_sudoer(
            conn,
            "broken",
            "deploy ALL=(ALL NOPASSWD ALL\n",
            directory=str(tmp_path),
            dry_run=dry_run,
        )
    assert list(tmp_path.iterdir()) == []


def test_invalid_update_keeps_the_old_file(conn, tmp_path):
    good = "deploy ALL=(ALL) ALL\n"
    users.configure_sudoer(conn, "deploy", good, directory=str(tmp_path))
    with pytest.raises(users.SudoersInvalid):
        users.configure_sudoer(conn, "deploy", "deploy ALL=(\n", directory=str(tmp_path))
    assert (tmp_path / "deploy").read_text() == good
    assert [p.name for p in tmp_path.iterdir()] == ["deploy"]


def test_sudoer_dry_run_validates_but_writes_nothing(conn, tmp_path):
    plan = users.configure_sudoer(
        conn, "deploy", "deploy ALL=(ALL) ALL", directory=str(tmp_path), dry_run=True
    )
    assert plan.changed and plan.dry_run
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", ["deploy.conf", "x~", "../x"])
def test_sudoer_names_sudo_would_ignore_are_refused(conn, tmp_path, bad):
    with pytest.raises(KitValueError):
        users.configure_sudoer(conn, bad, "root ALL=(ALL) ALL\n", directory=str(tmp_path))
    assert conn.sent == []


@pytest.fixture
def contained(tmp_path):
    """A sudoers tree of its own: main file, a relative #include, an @includedir."""
    etc = tmp_path / "etc"
    drop = etc / "sudoers.d"
    drop.mkdir(parents=True)
    (etc / "sudoers").write_text(
        f"Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n#include sudoers.local\n@includedir {drop}\n"
    )
    (etc / "sudoers.local").write_text("Cmnd_Alias LOCAL = /usr/bin/true\n")
    (drop / "admins").write_text("User_Alias ADMINS = alice\nADMINS ALL=(ALL) LOCAL\n")
    # sudo skips names with a ".": this one must not count as a clash.
    (drop / "old.bak").write_text("User_Alias OPS = bob\n")
    for f in (etc / "sudoers", etc / "sudoers.local", drop / "admins", drop / "old.bak"):
        f.chmod(0o440)
    return etc, drop


def _tree(etc):
    return {str(p.relative_to(etc)): p.read_bytes() for p in sorted(etc.rglob("*")) if p.is_file()}


CLASH = "User_Alias ADMINS = bob\nADMINS ALL=(ALL) /usr/bin/id\n"


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_drop_in_that_breaks_the_whole_configuration_never_lands(conn, contained, dry_run):
    etc, drop = contained
    before = _tree(etc)
    with pytest.raises(users.SudoersInvalid, match="rest of the configuration") as info:
        users.configure_sudoer(
            conn,
            "deploy",
            CLASH,
            directory=str(drop),
            sudoers_file=str(etc / "sudoers"),
            dry_run=dry_run,
        )
    assert f"{drop}/deploy" in str(info.value) and "ADMINS" in str(info.value)
    assert "/tmp/" not in str(info.value).replace(str(etc), "")
    assert _tree(etc) == before


def test_the_whole_configuration_sees_nested_includes(conn, contained):
    etc, drop = contained
    kw = {"directory": str(drop), "sudoers_file": str(etc / "sudoers")}
    # LOCAL comes from the relative #include: without it the alias would be undefined.
    good = "User_Alias OPS = bob\nOPS ALL=(ALL) LOCAL\n"
    assert users.configure_sudoer(conn, "ops", good, **kw).changed
    assert (drop / "ops").read_text() == good
    assert not users.configure_sudoer(conn, "ops", good, **kw).changed
    with pytest.raises(users.SudoersInvalid, match="LOCAL"):
        users.configure_sudoer(conn, "ops", "Cmnd_Alias LOCAL = /usr/bin/id\n", **kw)
    assert (drop / "ops").read_text() == good
    assert sorted(p.name for p in drop.iterdir()) == ["admins", "old.bak", "ops"]


def test_replacing_a_drop_in_checks_the_new_content_not_the_old(conn, contained):
    etc, drop = contained
    kw = {"directory": str(drop), "sudoers_file": str(etc / "sudoers")}
    # The new admins file redefines ADMINS in place of the old one: no clash.
    new = "User_Alias ADMINS = carol\nADMINS ALL=(ALL) LOCAL\n"
    assert users.configure_sudoer(conn, "admins", new, **kw).changed
    assert (drop / "admins").read_text() == new
