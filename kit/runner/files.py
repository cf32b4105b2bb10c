"""Files on the host: reads, atomic writes, and the small operations around them."""

from __future__ import annotations

from kit.connection import Connection
from kit.runner.change import Change, unified_diff
from kit.runner.validate import path as valid_path

# Reads a file's content and its mode/owner/group in one round trip: a header
# line of stat output, then the bytes. A missing file prints "absent".
_READ = 'if [ -e {p} ]; then stat -c "%a %U %G" -- {p} && cat -- {p}; else echo absent; fi'


def exists(conn: Connection, path: str, *, sudo: bool = False) -> bool:
    return conn.run("test -e %s", valid_path(path), sudo=sudo).ok


def is_dir(conn: Connection, path: str, *, sudo: bool = False) -> bool:
    return conn.run("test -d %s", valid_path(path), sudo=sudo).ok


def read_file(conn: Connection, path: str, *, sudo: bool = False) -> bytes:
    return conn.get(valid_path(path), sudo=sudo)


def stat_and_read(
    conn: Connection, path: str, *, sudo: bool = False
) -> tuple[bytes | None, tuple[str, str, str] | None]:
    """Content and (mode, owner, group) of path, or (None, None) when it does not exist."""
    from kit.connection import quote

    p = quote(valid_path(path))
    res = conn.run(_READ.format(p=p), sudo=sudo).check()
    head, _, body = res.stdout_bytes.partition(b"\n")
    if head == b"absent":
        return None, None
    mode, owner, group = head.decode().split()
    return body, (mode, owner, group)


def write_file(
    conn: Connection,
    path: str,
    content: bytes | str,
    *,
    mode: str | int | None = None,
    owner: str | None = None,
    group: str | None = None,
    sudo: bool = False,
    dry_run: bool = False,
) -> Change:
    """Make path hold content (and mode/owner/group when given), atomically.

    Reads first; when content and attributes already match, nothing is written.
    Without mode, an existing file keeps its mode and owner.
    """
    data = content.encode() if isinstance(content, str) else content
    valid_path(path)
    old, attrs = stat_and_read(conn, path, sudo=sudo)
    want_mode = _norm_mode(mode) if mode is not None else None
    content_changed = old != data
    mode_changed = want_mode is not None and (attrs is None or _norm_mode(attrs[0]) != want_mode)
    owner_changed = attrs is not None and (
        (owner is not None and attrs[1] != owner) or (group is not None and attrs[2] != group)
    )
    if not (content_changed or mode_changed or owner_changed):
        return Change.none(f"{path} already up to date", dry_run=dry_run)
    diff = unified_diff(path, old, data) if content_changed else ""
    what = []
    if content_changed:
        what.append("created" if old is None else "content updated")
    if mode_changed:
        what.append(f"mode {want_mode}")
    if owner_changed or (attrs is None and (owner or group)):
        what.append(f"owner {owner or ''}:{group or ''}".rstrip(":"))
    if not dry_run:
        if content_changed:
            conn.put(data, path, mode=want_mode, sudo=sudo)
        elif mode_changed:
            conn.run("chmod %s %s", want_mode or "", path, sudo=sudo).check()
        if owner or group:
            spec = f"{owner or ''}:{group or ''}" if group else (owner or "")
            conn.run("chown %s -- %s", spec, path, sudo=sudo).check()
    return Change.made(f"{path}: {', '.join(what)}", diff, dry_run=dry_run)


def _norm_mode(mode: str | int) -> str:
    text = format(mode, "o") if isinstance(mode, int) else str(mode)
    return text.lstrip("0").rjust(3, "0")
