"""The kernel's configuration directories (sysctl.d, modprobe.d, modules-load.d): read a
tree of them in one round trip, and edit one root-owned file of them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from kit.connection import Connection
from kit.edits import decode, encode
from kit.runner.change import Change
from kit.runner.files import mkdirp, stat_and_read, write_file
from kit.runner.validate import path as valid_path

HEADER = "# Managed by hostkit: edits to lines it manages are replaced.\n"

# $@: directories (their *.conf files) and plain files; each file is printed
# as NUL, its path, NUL, its content; a link in a directory also as NUL,
# "@link:" and its path, NUL, its resolved target. Config files hold no NUL bytes.
_CAT_CONFS = r"""for d in "$@"; do
  if [ -d "$d" ]; then
    for f in "$d"/*.conf; do
      if [ -L "$f" ]; then printf '\0@link:%s\0%s' "$f" "$(readlink -f -- "$f")"; fi
      if [ -f "$f" ]; then printf '\0%s\0' "$f"; cat -- "$f" 2>/dev/null; fi
    done
  elif [ -f "$d" ]; then printf '\0%s\0' "$d"; cat -- "$d" 2>/dev/null; fi
done; true"""

# -- internals -----------------------------------------------------------------


def edit(
    conn: Connection,
    path: str,
    edit: Callable[[str], str],
    dry_run: bool,
    what: str | None = None,
) -> Change:
    """Apply a text edit to a root-owned file; a new file starts with the header."""
    old, _ = stat_and_read(conn, path, sudo=True)
    before = decode(old) if old is not None else HEADER
    after = edit(before)
    if old is not None and after == before:
        done = f"already {'sets ' + what if what else 'up to date'}"
        return Change.none(f"{path} {done}", dry_run=dry_run)
    if old is not None:
        return write_file(conn, path, encode(after), sudo=True, dry_run=dry_run)
    # Some hosts ship without /etc/modprobe.d or /etc/sysctl.d.
    parent = mkdirp(conn, posixpath.dirname(path), mode="0755", sudo=True, dry_run=dry_run)
    written = write_file(conn, path, after, mode="0644", sudo=True, dry_run=dry_run)
    if not parent.changed:
        return written  # its summary names the path already
    summary = f"{parent.summary}; {written.summary}"
    return Change.made(summary, written.diff, dry_run=dry_run)


def read_confs(conn: Connection, paths: list[str]) -> list[tuple[str, str]]:
    return read_tree(conn, paths)[0]


def read_tree(conn: Connection, paths: list[str]) -> tuple[list[tuple[str, str]], dict[str, str]]:
    """((path, text) of each readable file, {link: resolved target}) under paths."""
    if not paths:
        return [], {}
    for p in paths:
        valid_path(p)
    out = conn.read("sh -c %s sh" + " %s" * len(paths), _CAT_CONFS, *paths).check()
    parts = out.stdout_bytes.split(b"\0")[1:]
    files: list[tuple[str, str]] = []
    links: dict[str, str] = {}
    for i in range(0, len(parts) - 1, 2):
        head, body = (
            parts[i].decode(errors="replace"),
            parts[i + 1].decode(errors="replace"),
        )
        if head.startswith("@link:"):
            links[head[len("@link:") :]] = body
        else:
            files.append((head, body))
    return files, links
