"""The connection a remediation gets under --dry-run: reads go through, writes are refused.

Dry run then no longer rests on every remediation passing `dry_run` to every runner
call: one that forgets fails with PlanWriteError naming the write, before it reaches
the host. The runner sends what only reads with `Connection.read`.

A host's fixes share one FileChanges overlay: what an earlier fix planned to write is
what a later one reads, as it would be in a real run, so two fixes editing one file plan
one edit of it. A real --fix records its writes the same way, to show them per file.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from kit.connection import sudo
from kit.connection.base import Connection
from kit.connection.quoting import command as fill
from kit.connection.result import Result
from kit.errors import PlanWriteError

# Long scripts would make the error many lines long; their opening names them well enough.
_SHOWN = 300


class PlanningConnection(Connection):
    """Wraps a connection for planning: `read` passes through; `run` and `put` raise
    PlanWriteError. Anything else (spec, name, options) is the wrapped connection's."""

    def __init__(self, conn: Connection, files: FileChanges | None = None) -> None:
        # Not Connection.__init__: every attribute it would set comes from the wrapped one.
        self._wrapped = conn
        self.files = files if files is not None else FileChanges()

    def __getattr__(self, attr: str) -> Any:
        if attr == "_wrapped":  # before __init__ ran (copy, pickle): no recursion
            raise AttributeError(attr)
        return getattr(self._wrapped, attr)

    @property
    def wrapped(self) -> Connection:
        return self._wrapped

    def read(
        self,
        cmd: str,
        *args: str | int | os.PathLike[str],
        sudo: bool = False,
        stdin: bytes | str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        return self._wrapped.read(cmd, *args, sudo=sudo, stdin=stdin, timeout=timeout, env=env)

    def get(self, path: str, *, sudo: bool = False) -> bytes:
        planned = self.files.planned(path)
        if planned is not None and planned.content is not None:
            return planned.content
        return super().get(path, sudo=sudo)

    def run(
        self,
        cmd: str,
        *args: str | int | os.PathLike[str],
        sudo: bool = False,
        stdin: bytes | str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        raise PlanWriteError(_shown(fill(cmd, *args)))

    def put(
        self,
        data: bytes,
        path: str,
        *,
        mode: int | str | None = None,
        owner: str | None = None,
        group: str | None = None,
        sudo: bool = False,
    ) -> None:
        raise PlanWriteError(_shown(f"put {path}"))

    def _exec(
        self, cmdline: str, *, stdin: bytes | sudo.Input | None, timeout: float | None
    ) -> tuple[int, bytes, bytes]:
        raise PlanWriteError(_shown(cmdline))

    def close(self) -> None:
        """The wrapped connection belongs to the run, not to the remediation planning on it."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._wrapped!r}>"


def _shown(call: str) -> str:
    flat = re.sub(r"\s+", " ", call).strip()
    return flat if len(flat) <= _SHOWN else flat[: _SHOWN - 3] + "..."


Attrs = tuple[str, str, str]  # mode, owner, group, as kit.runner.files reads them


@dataclass(frozen=True)
class FileChange:
    """One file's content before the run's first write to it, and after its latest."""

    path: str
    original: bytes | None
    content: bytes
    attrs: Attrs
    # Shown as digests once any write to it was: the file may hold secrets.
    private: bool

    @property
    def created(self) -> bool:
        return self.original is None


class FileChanges:
    """The files a host's fixes change in one run, keyed by the path written (a link's
    target); `links` maps a path written through a link to that target."""

    def __init__(self) -> None:
        self.files: dict[str, FileChange] = {}
        self.links: dict[str, str] = {}

    def planned(self, path: str) -> FileChange | None:
        return self.files.get(self.links.get(path, path))

    def wrote(
        self,
        path: str,
        target: str,
        old: bytes | None,
        attrs: Attrs,
        new: bytes,
        *,
        readable: bool,
    ) -> None:
        if target != path:
            self.links[path] = target
        before = self.files.get(target)
        if before is None:
            self.files[target] = FileChange(target, old, new, attrs, not readable)
        else:
            private = before.private or not readable
            self.files[target] = replace(before, content=new, attrs=attrs, private=private)

    def mark(self) -> dict[str, FileChange]:
        """The state to go back to when the fix about to run fails (see `since`, `undo`)."""
        return dict(self.files)

    def undo(self, mark: dict[str, FileChange]) -> None:
        """A failed fix's writes never happened (dry run) or were put back (its journal)."""
        self.files = dict(mark)

    def since(self, mark: dict[str, FileChange]) -> list[FileChange]:
        """The files a fix changed since mark, each from the run's original content."""
        return [f for p, f in self.files.items() if mark.get(p) is not f]


_RECORDING: ContextVar[tuple[Connection, FileChanges] | None] = ContextVar(
    "hostkit_file_changes", default=None
)


@contextlib.contextmanager
def recording(conn: Connection, files: FileChanges) -> Iterator[FileChanges]:
    """Record the runner's file writes to conn's host in files while the block runs."""
    token = _RECORDING.set((conn, files))
    try:
        yield files
    finally:
        _RECORDING.reset(token)


def changes_of(conn: Connection) -> FileChanges | None:
    """Where the runner records a write made (or planned) on conn, if anywhere."""
    if isinstance(conn, PlanningConnection):
        return conn.files
    active = _RECORDING.get()
    return active[1] if active is not None and active[0] is conn else None


def planned_file(conn: Connection, path: str) -> FileChange | None:
    """What an earlier planned write left at path, which a planning read sees instead
    of the host's file; None outside planning or for a file no fix planned to write."""
    return conn.files.planned(path) if isinstance(conn, PlanningConnection) else None
