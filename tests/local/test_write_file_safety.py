"""write_file's guarantees on this machine, under temporary directories: arguments checked
before the first write, special mode bits kept, symlinks written through, secrets kept
out of diffs."""

from __future__ import annotations

import os
import pwd

import pytest

from kit.connection import connect
from kit.errors import KitValueError
from kit.runner import files, network
from tests.local.recording import RecordingConnection


@pytest.fixture
def conn():
    with connect("local://") as c:
        yield c


def test_a_bad_owner_is_refused_before_the_content_is_written(conn, tmp_path):
    target = tmp_path / "f"
    target.write_text("old\n")
    for bad in ({"owner": "root; x"}, {"group": "-g"}, {"mode": "u+s"}):
        with pytest.raises(KitValueError):
            files.write_file(conn, str(target), "new\n", **bad)
    assert target.read_text() == "old\n"


def test_a_symbolic_mode_is_refused_on_the_no_change_path_too():
    recording = RecordingConnection()
    with pytest.raises(KitValueError, match="file mode"):
        files.write_file(recording, "/etc/hostname", "whatever\n", mode="u+s")
    assert recording.writes() == [] and recording.sent == []


def test_setuid_survives_a_new_owner(conn, tmp_path):
    target = tmp_path / "tool"
    files.write_file(conn, str(target), "#!/bin/sh\n", mode="4755", owner="nobody")
    st = target.stat()
    assert (oct(st.st_mode & 0o7777), pwd.getpwuid(st.st_uid).pw_name) == ("0o4755", "nobody")
    # Same content, the owner back to root: chown clears setuid, so the mode goes after.
    again = files.write_file(conn, str(target), "#!/bin/sh\n", mode="4755", owner="root")
    assert again.changed
    assert oct(target.stat().st_mode & 0o7777) == "0o4755"
    assert not files.write_file(conn, str(target), "#!/bin/sh\n", mode="4755", owner="root").changed


def test_a_symlink_is_written_through_and_stays_a_link(conn, tmp_path):
    real = tmp_path / "real.conf"
    real.write_text("a = 1\n")
    link = tmp_path / "link.conf"
    link.symlink_to(real)
    change = files.write_file(conn, str(link), "a = 2\n", mode="0644")
    assert change.changed and f"through the link to {real}" in change.summary
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "a = 2\n"
    assert not files.write_file(conn, str(link), "a = 2\n", mode="0644").changed


def test_a_symlinked_hosts_file_is_edited_in_place(conn, tmp_path):
    real = tmp_path / "hosts.real"
    real.write_text("127.0.0.1 localhost\n")
    link = tmp_path / "hosts"
    link.symlink_to(real)
    assert network.add_host_entry(conn, "10.1.2.3", "node1.example", hosts_file=str(link)).changed
    assert link.is_symlink()
    assert "node1.example" in real.read_text()
    assert not network.add_host_entry(
        conn, "10.1.2.3", "node1.example", hosts_file=str(link)
    ).changed


def test_a_plan_for_a_private_file_shows_digests_not_values(conn, tmp_path):
    secret = tmp_path / "app.env"
    secret.write_text("user=app\npassword=old-value\n")
    secret.chmod(0o600)
    plan = files.write_file(conn, str(secret), "user=app\npassword=new-value\n", dry_run=True)
    assert plan.changed and "old-value" not in plan.diff and "new-value" not in plan.diff
    assert "not world-readable" in plan.diff and "sha256" in plan.diff
    public = tmp_path / "app.yaml"
    public.write_text("name: app\n")
    public.chmod(0o644)
    plan = files.write_file(conn, str(public), "name: app\napi_key: abc123\n", dry_run=True)
    assert "abc123" not in plan.diff and "secret-looking keys" in plan.diff
    plan = files.write_file(conn, str(public), "name: other\n", dry_run=True)
    assert "+name: other" in plan.diff
