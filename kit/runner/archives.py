"""Downloads and archive extraction on the host.

The host fetches the URL itself (curl or wget, whichever it has): bytes never
pass through the controller. A download lands in a temporary file beside its
destination and is renamed into place only after its checksum matched.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urlsplit

from kit.connection import Connection
from kit.errors import KitError, KitValueError
from kit.runner.change import Change, combine
from kit.runner.files import get_sha256, mkdirp
from kit.runner.validate import mask_url
from kit.runner.validate import path as valid_path

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_KINDS = {".tar.gz": "tar", ".tgz": "tar", ".tar.xz": "tar", ".txz": "tar", ".zip": "zip"}

# The URL arrives on stdin, never as an argument: it may carry credentials, and
# arguments are visible to every user of the host through ps.
# $2 destination, $3 expected sha256 (may be empty), $4 mode (may be empty).
_DOWNLOAD = r"""set -e
IFS= read -r url
mkdir -p -- "$(dirname -- "$2")"
tmp=$(mktemp "$(dirname -- "$2")/.hostkit-dl.XXXXXXXX")
trap 'rm -f -- "$tmp"' EXIT
if command -v curl >/dev/null 2>&1; then
  printf 'url = "%s"\n' "$url" | curl -fsSL --retry 2 -o "$tmp" -K -
elif command -v wget >/dev/null 2>&1; then printf '%s\n' "$url" | wget -q -O "$tmp" -i -
else echo "neither curl nor wget is installed" >&2; exit 127; fi
got=$(sha256sum -- "$tmp" | cut -d' ' -f1)
if [ -n "$3" ] && [ "$got" != "$3" ]; then
  echo "sha256 mismatch: expected $3, got $got" >&2; exit 3
fi
if [ -e "$2" ] && [ "$(sha256sum -- "$2" | cut -d' ' -f1)" = "$got" ]; then echo same; exit 0; fi
if [ -n "$4" ]; then chmod "$4" "$tmp"; else chmod 0644 "$tmp"; fi
mv -f -T -- "$tmp" "$2"
trap - EXIT
echo replaced"""

# $1 archive, $2 directory. Exit 0 when every member is present with the same content.
_ZIP_SAME = r"""unzip -Z1 -- "$1" | while IFS= read -r m; do
  case "$m" in */) [ -d "$2/$m" ] || exit 1; continue;; esac
  [ -f "$2/$m" ] || exit 1
  unzip -p -- "$1" "$m" | cmp -s - "$2/$m" || exit 1
done"""


def download(
    conn: Connection,
    url: str,
    dest: str,
    *,
    sha256: str | None = None,
    force: bool = False,
    mode: str | None = None,
    sudo: bool = False,
    dry_run: bool = False,
    timeout: float | None = None,
) -> Change:
    """Make dest hold what url serves.

    With sha256, a dest that already has it is left alone, and a download that
    does not match is discarded (KitError). Without it, an existing dest is
    left alone unless force, which fetches and replaces it only if it differs.
    """
    _check_url(url)
    valid_path(dest)
    want = _check_sha(sha256)
    present = conn.read("test -e %s", dest, sudo=sudo).ok
    if present and want is not None and get_sha256(conn, dest, sudo=sudo) == want:
        return Change.none(f"{dest} already has sha256 {want[:12]}", dry_run=dry_run)
    if present and want is None and not force:
        return Change.none(f"{dest} exists (no checksum given to compare)", dry_run=dry_run)
    if dry_run:
        verb = "replace" if present else "create"
        return Change.made(f"{dest}: download {mask_url(url)} ({verb})", dry_run=True)
    res = conn.run(
        "sh -c %s sh - %s %s %s",
        _DOWNLOAD,
        dest,
        want or "",
        mode or "",
        stdin=url + "\n",
        sudo=sudo,
        timeout=timeout,
    )
    if not res.ok:
        detail = res.stderr.strip().replace(url, mask_url(url))[:300]
        raise KitError(f"download of {mask_url(url)} to {dest} failed: {detail}")
    if res.stdout.strip() == "same":
        return Change.none(f"{dest} already has the content of {mask_url(url)}")
    return Change.made(f"{dest}: downloaded {mask_url(url)}")


def archive_kind(path: str) -> str:
    """ "tar" or "zip", from the name's suffix; KitValueError for anything else."""
    lower = path.lower()
    for suffix, kind in _KINDS.items():
        if lower.endswith(suffix):
            return kind
    raise KitValueError(f"unsupported archive type (tar.gz, tar.xz or zip): {path}")


def extract(
    conn: Connection,
    archive: str,
    dest_dir: str,
    *,
    sudo: bool = False,
    dry_run: bool = False,
    timeout: float | None = None,
) -> Change:
    """Unpack archive into dest_dir, unless every member is already there, the same."""
    kind = archive_kind(valid_path(archive))
    valid_path(dest_dir)
    if not conn.read("test -f %s", archive, sudo=sudo).ok:
        raise KitError(f"archive {archive} does not exist")
    made_dir = mkdirp(conn, dest_dir, sudo=sudo, dry_run=dry_run)
    if not made_dir.changed and _same(conn, kind, archive, dest_dir, sudo=sudo):
        return Change.none(f"{dest_dir} already holds {archive}", dry_run=dry_run)
    if not dry_run:
        # Files belong to whoever extracts them, not to the uid the archive was built by.
        cmd = "tar -xf %s -C %s --no-same-owner" if kind == "tar" else "unzip -o -q %s -d %s"
        res = conn.run(cmd, archive, dest_dir, sudo=sudo, timeout=timeout)
        if not res.ok:
            raise KitError(f"extracting {archive} into {dest_dir} failed: {res.stderr[:300]}")
    step = Change.made(f"extracted {archive} into {dest_dir}", dry_run=dry_run)
    return combine(f"{dest_dir}", [made_dir, step], dry_run=dry_run)


def download_and_extract(
    conn: Connection,
    url: str,
    dest_dir: str,
    *,
    sha256: str | None = None,
    cache_dir: str = "/var/cache/hostkit",
    sudo: bool = False,
    dry_run: bool = False,
    timeout: float | None = None,
) -> Change:
    """Download url into cache_dir (kept, so a second run downloads nothing), then extract."""
    # Checked first: the archive's name comes from the URL, and a malformed one could
    # put its userinfo there.
    _check_url(url)
    name = posixpath.basename(urlsplit(url).path)
    if not name or name in {".", ".."}:
        raise KitValueError(f"cannot name an archive after this URL: {mask_url(url)}")
    archive_kind(name)
    archive = posixpath.join(valid_path(cache_dir), name)
    steps = [mkdirp(conn, cache_dir, mode="0755", sudo=sudo, dry_run=dry_run)]
    steps.append(
        download(conn, url, archive, sha256=sha256, sudo=sudo, dry_run=dry_run, timeout=timeout)
    )
    if dry_run and steps[-1].changed:
        # Nothing to compare against until the archive exists.
        steps.append(Change.made(f"extract {archive} into {dest_dir}", dry_run=True))
    else:
        steps.append(extract(conn, archive, dest_dir, sudo=sudo, dry_run=dry_run, timeout=timeout))
    return combine(f"{mask_url(url)} in {dest_dir}", steps, dry_run=dry_run)


def _same(conn: Connection, kind: str, archive: str, dest_dir: str, *, sudo: bool) -> bool:
    if kind == "zip":
        return conn.read("sh -c %s sh %s %s", _ZIP_SAME, archive, dest_dir, sudo=sudo).ok
    # tar --compare also reports owner, mode and mtime differences, which
    # extraction by another user or umask produces; only content and presence
    # decide whether extracting again would change anything.
    res = conn.read("tar --compare -f %s -C %s", archive, dest_dir, sudo=sudo)
    if res.ok:
        return True
    report = res.stdout + res.stderr
    bad = (
        "Contents differ",
        "Size differs",
        "No such file",
        "File type differs",
        "Symlink differs",
        "Not a",
    )
    return res.rc == 1 and not any(b in report for b in bad)


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    if (
        parts.scheme not in {"http", "https", "ftp"}
        or not parts.netloc
        or any(c in url for c in '\n\r\0 "\\')
    ):
        raise KitValueError(f"invalid URL (http, https or ftp): {mask_url(url)}")


def _check_sha(sha256: str | None) -> str | None:
    if sha256 is None:
        return None
    want = sha256.lower().removeprefix("sha256:")
    if not _SHA256.match(want):
        raise KitValueError(f"invalid sha256: {sha256!r}")
    return want
