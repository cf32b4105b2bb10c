import hashlib
import io
import tarfile
import threading
import zipfile
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from kit.errors import KitError, KitValueError
from kit.runner import archives
from tests.local.recording import RecordingConnection

MEMBERS = {"app/bin/tool": b"#!/bin/sh\necho tool\n", "app/README": b"read me\n"}


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def served(tmp_path):
    """An HTTP server on 127.0.0.1 serving a directory of archives built here."""
    root = tmp_path / "www"
    root.mkdir()
    for mode, name in (("w:gz", "app.tar.gz"), ("w:xz", "app.tar.xz")):
        with tarfile.open(root / name, mode) as tar:
            for member, data in MEMBERS.items():
                info = tarfile.TarInfo(member)
                info.size, info.mode, info.uid = len(data), 0o755, 4242
                tar.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(root / "app.zip", "w") as zf:
        for member, data in MEMBERS.items():
            zf.writestr(member, data)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()
    server.server_close()


@pytest.fixture
def conn():
    return RecordingConnection()


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_download_verifies_writes_and_then_skips(served, conn, tmp_path):
    base, root = served
    dest = tmp_path / "new dir" / "out.tar.gz"
    want = _sha(root / "app.tar.gz")
    plan = archives.download(conn, f"{base}/app.tar.gz", str(dest), sha256=want, dry_run=True)
    assert plan.changed and not dest.exists() and not conn.writes()
    assert archives.download(conn, f"{base}/app.tar.gz", str(dest), force=True).changed
    assert dest.read_bytes() == (root / "app.tar.gz").read_bytes()
    conn.reset()
    again = archives.download(conn, f"{base}/app.tar.gz", str(dest), sha256=want.upper())
    assert not again.changed and not conn.writes()
    assert not archives.download(conn, f"{base}/app.tar.gz", str(dest)).changed
    assert not archives.download(conn, f"{base}/app.tar.gz", str(dest), force=True).changed


def test_download_with_a_wrong_checksum_leaves_nothing_behind(served, conn, tmp_path):
    base, _ = served
    with pytest.raises(KitError, match="sha256 mismatch"):
        archives.download(conn, f"{base}/app.zip", str(tmp_path / "x.zip"), sha256="0" * 64)
    assert list(tmp_path.iterdir()) == [tmp_path / "www"]


def test_download_errors_never_show_url_credentials(served, conn, tmp_path):
    base, _ = served
    url = base.replace("http://", "http://user:s3cret@") + "/missing.zip"
    with pytest.raises(KitError) as info:
        archives.download(conn, url, str(tmp_path / "m.zip"))
    assert "s3cret" not in str(info.value) and "missing.zip" in str(info.value)
    with pytest.raises(KitValueError):
        archives.download(conn, "file:///etc/passwd", str(tmp_path / "p"))


@pytest.mark.parametrize("name", ["app.tar.gz", "app.tar.xz", "app.zip"])
def test_extract_each_kind_once(served, conn, tmp_path, name):
    _, root = served
    dest = tmp_path / "dest"
    assert archives.extract(conn, str(root / name), str(dest), dry_run=True).changed
    assert not dest.exists() and not conn.writes()
    assert archives.extract(conn, str(root / name), str(dest)).changed
    for member, data in MEMBERS.items():
        assert (dest / member).read_bytes() == data
    conn.reset()
    assert not archives.extract(conn, str(root / name), str(dest)).changed
    assert not conn.writes()
    (dest / "app" / "README").write_bytes(b"changed\n")
    assert archives.extract(conn, str(root / name), str(dest)).changed
    assert (dest / "app" / "README").read_bytes() == MEMBERS["app/README"]


def test_extract_refuses_unknown_suffixes_and_missing_archives(conn, tmp_path):
    with pytest.raises(KitValueError, match="unsupported"):
        archives.extract(conn, str(tmp_path / "a.rar"), str(tmp_path))
    with pytest.raises(KitError, match="does not exist"):
        archives.extract(conn, str(tmp_path / "a.zip"), str(tmp_path))


def test_download_and_extract_keeps_the_archive_so_a_rerun_writes_nothing(served, conn, tmp_path):
    base, root = served
    cache, dest = tmp_path / "cache", tmp_path / "opt"
    url = f"{base}/app.tar.xz"
    kw = {"sha256": _sha(root / "app.tar.xz"), "cache_dir": str(cache)}
    plan = archives.download_and_extract(conn, url, str(dest), dry_run=True, **kw)
    assert plan.changed and not cache.exists() and not conn.writes()
    assert archives.download_and_extract(conn, url, str(dest), **kw).changed
    assert (dest / "app" / "bin" / "tool").read_bytes() == MEMBERS["app/bin/tool"]
    conn.reset()
    assert not archives.download_and_extract(conn, url, str(dest), **kw).changed
    assert not conn.writes()


def test_url_credentials_never_reach_a_command_line(served, conn, tmp_path):
    base, root = served
    secret_url = base.replace("http://", "http://deploy:s3cret-token@") + "/app.tar.gz"
    dest = tmp_path / "cred.tar.gz"
    change = archives.download(conn, secret_url, str(dest), sha256=_sha(root / "app.tar.gz"))
    assert change.changed and dest.read_bytes() == (root / "app.tar.gz").read_bytes()
    assert conn.commands and not any("s3cret-token" in c for c in conn.commands)
    assert "s3cret-token" not in change.summary


MALFORMED = [
    "https:/deploy:pw-S3CRET@example.invalid/app.tar.gz",
    "https:deploy:pw-S3CRET@example.invalid/app.tar.gz",
    "https:/deploy:pw-S3CRET@example.invalid",
    "https://deploy:pw-S3CRET@exa mple.invalid/app.tar.gz",
    "gopher://deploy:pw-S3CRET@example.invalid/app.tar.gz",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url_is_refused_without_its_password(conn, tmp_path, url):
    for call in (
        lambda: archives.download(conn, url, str(tmp_path / "a.tar.gz")),
        lambda: archives.download(conn, url, str(tmp_path / "a.tar.gz"), dry_run=True),
        lambda: archives.download_and_extract(conn, url, str(tmp_path / "x")),
    ):
        with pytest.raises(KitValueError) as info:
            call()
        assert "pw-S3CRET" not in str(info.value)
        assert "deploy:***@" in str(info.value)
    assert conn.commands == []


def test_a_plan_names_the_url_with_its_password_masked(served, conn, tmp_path):
    base, _ = served
    url = base.replace("http://", "http://deploy:pw-S3CRET@") + "/app.zip"
    plan = archives.download(conn, url, str(tmp_path / "a.zip"), dry_run=True)
    assert "pw-S3CRET" not in plan.summary and "deploy:***@" in plan.summary


def test_download_replaces_a_link_to_a_directory_rather_than_writing_into_it(
    served, conn, tmp_path
):
    base, root = served
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    dest = tmp_path / "app.tar.gz"
    dest.symlink_to(elsewhere)
    want = _sha(root / "app.tar.gz")
    assert archives.download(conn, f"{base}/app.tar.gz", str(dest), force=True).changed
    assert not dest.is_symlink() and _sha(dest) == want
    assert list(elsewhere.iterdir()) == []
