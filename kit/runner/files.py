"""Files on the host: reads, atomic writes, and the small operations around them."""

from __future__ import annotations

import re

from kit.connection import Connection, quote
from kit.connection.planning import changes_of, planned_file
from kit.errors import KitError, KitValueError
from kit.runner import journal, protect
from kit.runner.change import Change, private_diff
from kit.runner.validate import name as valid_name
from kit.runner.validate import path as valid_path

# Reads a file's content and its mode/owner/group in one round trip: a header
# line of stat output, then the bytes. A missing file prints "absent".
_READ = 'if [ -e {p} ]; then stat -c "%a %U %G" -- {p} && cat -- {p}; else echo absent; fi'


def exists(conn: Connection, path: str, *, sudo: bool = False) -> bool:
    """Whether path exists (any kind); a file an earlier fix of this dry run would create
    counts. Reads only."""
    if planned_file(conn, path) is not None:
        return True
    return conn.read("test -e %s", valid_path(path), sudo=sudo).ok


def is_dir(conn: Connection, path: str, *, sudo: bool = False) -> bool:
    """Whether path is a directory (or a link to one). Reads only."""
    return conn.read("test -d %s", valid_path(path), sudo=sudo).ok


def read_file(conn: Connection, path: str, *, sudo: bool = False) -> bytes:
    """The file's content as bytes; raises when it cannot be read. Reads only."""
    return conn.get(valid_path(path), sudo=sudo)


def stat_and_read(
    conn: Connection, path: str, *, sudo: bool = False
) -> tuple[bytes | None, tuple[str, str, str] | None]:
    """Content and (mode, owner, group) of path, or (None, None) when it does not exist."""
    planned = planned_file(conn, path)
    if planned is not None:
        return planned.content, planned.attrs
    p = quote(valid_path(path))
    res = conn.read(_READ.format(p=p), sudo=sudo).check()
    return _parse_read(res.stdout_bytes)


def _parse_read(out: bytes) -> tuple[bytes | None, tuple[str, str, str] | None]:
    head, _, body = out.partition(b"\n")
    if head == b"absent":
        return None, None
    mode, owner, group = head.decode().split()
    return body, (mode, owner, group)


# Where a write to path lands (a symlink's final target, as editors and Ansible's
# `follow` write), on the first line; then what _READ prints for that target.
_READ_THROUGH = (
    't=$(readlink -f -- {p} 2>/dev/null); [ -n "$t" ] || t={p}; printf \'%s\\n\' "$t"; '
    + _READ.format(p='"$t"')
)


def read_through(
    conn: Connection, path: str, *, sudo: bool = False
) -> tuple[str, bytes | None, tuple[str, str, str] | None]:
    """(the file a write to path changes, its content, its (mode, owner, group))."""
    p = quote(valid_path(path))
    res = conn.read(_READ_THROUGH.format(p=p), sudo=sudo).check()
    target, _, rest = res.stdout_bytes.partition(b"\n")
    content, attrs = _parse_read(rest)
    where = target.decode(errors="surrogateescape") or path
    planned = planned_file(conn, where)
    if planned is not None:
        return where, planned.content, planned.attrs
    return where, content, attrs


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
    Without mode, an existing file keeps its mode and owner. A symlink is written
    through: its target changes and the link stays. Every argument is checked
    before the first write, whichever path the write takes.
    """
    data = content.encode() if isinstance(content, str) else content
    valid_path(path)
    want_mode = _valid_mode(mode) if mode is not None else None
    if owner is not None:
        _valid_owner("user name", owner)
    if group is not None:
        _valid_owner("group name", group)
    target, old, attrs = read_through(conn, path, sudo=sudo)
    content_changed = old != data
    mode_changed = want_mode is not None and (attrs is None or _norm_mode(attrs[0]) != want_mode)
    owner_changed = attrs is not None and (
        (owner is not None and attrs[1] != owner) or (group is not None and attrs[2] != group)
    )
    if not (content_changed or mode_changed or owner_changed):
        return Change.none(f"{path} already up to date", dry_run=dry_run)
    readable = _world_readable(attrs[0] if attrs else None) and _world_readable(want_mode)
    diff = private_diff(path, old, data, readable=readable) if content_changed else ""
    what = []
    if content_changed:
        what.append("created" if old is None else "content updated")
    if mode_changed:
        what.append(f"mode {want_mode}")
    if owner_changed or (attrs is None and (owner or group)):
        what.append(f"owner {owner or ''}:{group or ''}".rstrip(":"))
    if target != path:
        what.append(f"through the link to {target}")
    protect.path(conn, target, "write")
    with journal.file_step(conn, "write_file", target, dry_run=dry_run):
        if not dry_run and content_changed:
            conn.put(data, target, mode=want_mode, owner=owner, group=group, sudo=sudo)
        elif not dry_run:
            _set_attributes(conn, target, attrs, want_mode, owner, group, owner_changed, sudo)
    recorded = changes_of(conn)
    if recorded is not None and content_changed:
        # A new file's owner is the writer's; root is who writes under sudo.
        now = (want_mode or (attrs[0] if attrs else "644"), owner or "root", group or "root")
        if attrs is not None:
            now = (now[0], owner or attrs[1], group or attrs[2])
        recorded.wrote(path, target, old, now, data, readable=readable)
    return Change.made(f"{path}: {', '.join(what)}", diff, dry_run=dry_run)


def _set_attributes(
    conn: Connection,
    path: str,
    attrs: tuple[str, str, str] | None,
    want_mode: str | None,
    owner: str | None,
    group: str | None,
    owner_changed: bool,
    sudo: bool,
) -> None:
    """Owner first, then mode: chown clears setuid and setgid, so the mode goes after."""
    if owner_changed:
        spec = (owner or "") + (f":{group}" if group else "")
        conn.run("chown %s -- %s", spec, path, sudo=sudo).check()
    mode = want_mode or (attrs[0] if attrs and owner_changed else None)
    if mode is not None and (want_mode is not None or int(mode, 8) & 0o7000):
        conn.run("chmod %s -- %s", mode, path, sudo=sudo).check()


def _world_readable(mode: str | None) -> bool:
    return mode is None or bool(int(mode, 8) & 0o004)


def _norm_mode(mode: str | int) -> str:
    text = format(mode, "o") if isinstance(mode, int) else str(mode)
    return text.lstrip("0").rjust(3, "0")


# File type, mode, owner and group of a path (not following a final symlink), or "absent".
_STAT = 'if [ -e {p} ] || [ -L {p} ]; then stat -c "%F|%a|%U|%G|%u|%g" -- {p}; else echo absent; fi'
_COMMAND_NAME = re.compile(r"^[A-Za-z0-9._+-]+$")


def mkdirp(
    conn: Connection,
    path: str,
    *,
    mode: str | int | None = None,
    sudo: bool = False,
    dry_run: bool = False,
) -> Change:
    """Make path a directory (parents too); with mode, path itself gets that mode."""
    info = _stat(conn, path, sudo=sudo)
    want = _valid_mode(mode) if mode is not None else None
    if info is not None and info[0] != "directory":
        raise KitError(f"{path} exists and is not a directory ({info[0]})")
    if info is not None and (want is None or _norm_mode(info[1]) == want):
        return Change.none(f"{path} is already a directory", dry_run=dry_run)
    if info is not None:
        summary = f"{path}: mode {_norm_mode(info[1])} -> {want}"
        if not dry_run:
            conn.run("chmod %s -- %s", want or "", path, sudo=sudo).check()
        return Change.made(summary, dry_run=dry_run)
    if not dry_run:
        if want is None:
            conn.run("mkdir -p -- %s", path, sudo=sudo).check()
        else:
            conn.run("mkdir -p -- %s && chmod %s -- %s", path, want, path, sudo=sudo).check()
    return Change.made(f"{path}: directory created", dry_run=dry_run)


def remove(
    conn: Connection,
    path: str,
    *,
    recursive: bool = False,
    sudo: bool = False,
    dry_run: bool = False,
) -> Change:
    """Make path not exist. A directory goes only with recursive=True; / never does."""
    info = _stat(conn, path, sudo=sudo)
    if info is None:
        return Change.none(f"{path} already absent", dry_run=dry_run)
    if path.rstrip("/") == "":
        raise KitValueError("refusing to remove /")
    if info[0] == "directory" and not recursive:
        raise KitError(f"{path} is a directory; pass recursive=True to remove it")
    protect.path(conn, path, "remove")
    step = journal.file_step if info[0] != "directory" else journal.path_step
    with step(conn, "remove", path, dry_run=dry_run):
        if not dry_run:
            conn.run("rm -rf -- %s" if recursive else "rm -f -- %s", path, sudo=sudo).check()
    return Change.made(f"{path}: removed ({info[0]})", dry_run=dry_run)


def chmod(
    conn: Connection, path: str, mode: str | int, *, sudo: bool = False, dry_run: bool = False
) -> Change:
    """Give path the mode (octal, `"0644"` or `0o644`) unless it has it; raises when path
    does not exist. Journalled as a step on the file, before the change."""
    want = _valid_mode(mode)
    info = _stat(conn, path, sudo=sudo)
    if info is None:
        raise KitError(f"cannot chmod {path}: it does not exist")
    have = _norm_mode(info[1])
    if have == want:
        return Change.none(f"{path} already has mode {want}", dry_run=dry_run)
    protect.path(conn, path, "chmod")
    with journal.file_step(conn, "chmod", path, dry_run=dry_run):
        if not dry_run:
            conn.run("chmod %s -- %s", want, path, sudo=sudo).check()
    return Change.made(f"{path}: mode {have} -> {want}", dry_run=dry_run)


def chown(
    conn: Connection,
    path: str,
    owner: str | None,
    group: str | None = None,
    *,
    recursive: bool = False,
    sudo: bool = False,
    dry_run: bool = False,
) -> Change:
    """Give path (and, recursive, everything under it) that owner and/or group."""
    if owner is None and group is None:
        raise KitValueError("chown needs an owner or a group")
    if owner is not None:
        _valid_owner("user name", owner)
    if group is not None:
        _valid_owner("group name", group)
    info = _stat(conn, path, sudo=sudo)
    if info is None:
        raise KitError(f"cannot chown {path}: it does not exist")
    spec = (owner or "") + (f":{group}" if group is not None else "")
    if recursive:
        wrong = _find_not_owned(conn, path, owner, group, sudo=sudo)
    else:
        wrong = (owner is not None and owner not in (info[2], info[4])) or (
            group is not None and group not in (info[3], info[5])
        )
    if not wrong:
        return Change.none(f"{path} already owned by {spec}", dry_run=dry_run)
    protect.path(conn, path, "chown")
    step = journal.path_step if recursive else journal.file_step
    with step(conn, "chown", path, dry_run=dry_run):
        if not dry_run:
            flag = "-R " if recursive else ""
            conn.run(f"chown {flag}%s -- %s", spec, path, sudo=sudo).check()
    return Change.made(f"{path}: owner {info[2]}:{info[3]} -> {spec}", dry_run=dry_run)


def get_sha256(conn: Connection, path: str, *, sudo: bool = False) -> str:
    """The file's SHA-256 as 64 hex digits (`sha256sum`). Reads only."""
    out = conn.read("sha256sum -- %s", valid_path(path), sudo=sudo).check().stdout
    digest = out.split(" ", 1)[0].lstrip("\\")
    if not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise KitError(f"unexpected sha256sum output for {path}: {out[:100]!r}")
    return digest


def look_path(conn: Connection, name: str) -> str | None:
    """The absolute path the host's shell would run for name, or None."""
    if not _COMMAND_NAME.match(name):
        raise KitValueError(f"invalid command name: {name!r}")
    res = conn.read("command -v %s", name)
    found = res.stdout.strip()
    # command -v also answers for builtins and aliases with a bare name.
    return found if res.ok and found.startswith("/") else None


def create_symlink(
    conn: Connection,
    target: str,
    link_path: str,
    *,
    force: bool = False,
    sudo: bool = False,
    dry_run: bool = False,
) -> Change:
    """Make link_path a symlink to target, replacing another link atomically.

    A regular file at link_path is replaced only with force; a directory never.
    """
    if not target or "\0" in target or "\n" in target:
        raise KitValueError(f"invalid symlink target: {target!r}")
    p = quote(valid_path(link_path))
    out = conn.read(
        f"if [ -L {p} ]; then echo link; readlink -- {p}; "
        f"elif [ -d {p} ]; then echo directory; elif [ -e {p} ]; then echo file; "
        "else echo absent; fi",
        sudo=sudo,
    ).check()
    kind, _, current = out.stdout.partition("\n")
    current = current.removesuffix("\n")
    if kind == "link" and current == target:
        return Change.none(f"{link_path} already links to {target}", dry_run=dry_run)
    if kind == "directory" or (kind == "file" and not force):
        raise KitError(f"{link_path} exists and is a {kind}, not a symlink")
    protect.path(conn, link_path, "replace")
    with journal.file_step(conn, "create_symlink", link_path, dry_run=dry_run):
        _link(conn, link_path, target, sudo, dry_run)
    was = {"link": f" (was -> {current})", "file": " (replaced a file)"}.get(kind, "")
    return Change.made(f"{link_path} -> {target}{was}", dry_run=dry_run)


def _link(conn: Connection, link_path: str, target: str, sudo: bool, dry_run: bool) -> None:
    if not dry_run:
        # A link made beside the old one and renamed over it: never a moment without one.
        script = (
            'tmp="$(dirname -- "$1")/.hostkit-link.$$" && ln -s -- "$2" "$tmp" '
            '&& mv -f -T -- "$tmp" "$1" || { rm -f -- "$tmp"; exit 1; }'
        )
        conn.run("sh -c %s sh %s %s", script, link_path, target, sudo=sudo).check()


def _stat(conn: Connection, path: str, *, sudo: bool) -> tuple[str, ...] | None:
    """(type, mode, owner, group, uid, gid) of path, or None when it does not exist."""
    out = conn.read(_STAT.format(p=quote(valid_path(path))), sudo=sudo).check().stdout.strip()
    if out == "absent":
        return None
    return tuple(out.split("|"))


def _find_not_owned(
    conn: Connection, path: str, owner: str | None, group: str | None, *, sudo: bool
) -> bool:
    tests = []
    args: list[str] = [path]
    if owner is not None:
        tests.append("! -user %s")
        args.append(owner)
    if group is not None:
        tests.append("! -group %s")
        args.append(group)
    expr = " -o ".join(tests)
    out = conn.read(f"find %s \\( {expr} \\) -print -quit", *args, sudo=sudo).check()
    return bool(out.stdout_bytes.strip())


def _valid_owner(kind: str, value: str) -> None:
    if not value.isdigit():
        valid_name(kind, value)


def _valid_mode(mode: str | int) -> str:
    text = format(mode, "o") if isinstance(mode, int) else str(mode)
    if not re.fullmatch(r"[0-7]{3,4}", text):
        raise KitValueError(f"invalid file mode {mode!r}")
    return _norm_mode(text)
