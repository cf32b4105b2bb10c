"""Where a report goes: checked before the run contacts a host, written when it ends.

A report path is the operator's, and what is there stays what it was:
- `-` is standard output;
- a symlink, a FIFO or a device is written through: opened and written, never replaced,
  so `/dev/stdout` or a pipe a CI step reads gets the report and stays a link or a pipe.
  A link is never followed to create a file: one to a missing file is refused. A path
  that is this process's standard output or error (`/dev/stdout`, `/proc/self/fd/2`) is
  written through the stream itself, so the report lands in order with the run's output;
- a regular file, or a new one, is replaced atomically: a temporary file made with
  O_EXCL in the same directory, then renamed over the path. A rename replaces a link
  planted meanwhile; it never writes through it. The old file's mode is kept.
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, TextIO

from kit import encodable
from kit.errors import KitValueError

STDOUT = "-"


@dataclass(frozen=True)
class Destination:
    flag: str  # the option that named it, for messages
    raw: str  # as the operator wrote it
    path: Path | None  # None: standard output
    # Written through (a link, FIFO or device when checked) rather than replaced. Decided
    # once: a link planted at a new or regular file's path during the run is replaced.
    through: bool = False

    def __str__(self) -> str:
        return "standard output" if self.path is None else str(self.path)

    @property
    def key(self) -> str:
        """What two options naming the same place have in common."""
        return STDOUT if self.path is None else str(self.path)


def check(flag: str, raw: str, *, stdout_ok: bool = True) -> Destination:
    """The destination of a report option, or one KitValueError naming the option, the
    path and why the report could not be written there."""
    if raw == STDOUT and stdout_ok:
        return Destination(flag, raw, None)
    path = Path(raw).expanduser().absolute()
    problem = _problem(path)
    if problem:
        raise KitValueError(f"{flag} {raw}: {problem}")
    try:
        through = not stat.S_ISREG(path.lstat().st_mode)
    except FileNotFoundError:
        through = False
    return Destination(flag, raw, path, through)


def _problem(path: Path) -> str | None:
    try:
        st = path.lstat()
    except FileNotFoundError:
        return _cannot_create(path)
    except NotADirectoryError:
        return _cannot_create(path)
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISREG(st.st_mode):
        return _cannot_create(path)  # it is replaced: the directory must take a new file
    if stat.S_ISDIR(st.st_mode):
        return "is a directory; give a file name"
    try:
        target = path.stat()
    except FileNotFoundError:
        return "is a link to a missing file; a report is not created through a link"
    except OSError as exc:
        return exc.strerror or str(exc)
    if stat.S_ISDIR(target.st_mode):
        return "is a directory; give a file name"
    if stat.S_ISSOCK(target.st_mode):
        return "is a socket; give a file, a FIFO or a device"
    if not os.access(path, os.W_OK):
        return "is not writable"
    return None


def _cannot_create(path: Path) -> str | None:
    """Why a file could not be made at path, found by making one (access() says yes to
    root even on /proc): a temporary file in its directory, or, when the directory is
    still to be made, a temporary directory where it would be made. Both are removed."""
    existing = path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        what = "a file, not a directory" if existing.is_file() else "not a directory"
        return f"{existing} is {what}"
    try:
        if existing == path.parent:
            fd, probe = tempfile.mkstemp(dir=existing, prefix=".hostkit-probe.")
            os.close(fd)
            os.unlink(probe)
        else:
            os.rmdir(tempfile.mkdtemp(dir=existing, prefix=".hostkit-probe."))
    except OSError as exc:
        return f"cannot write in {existing}: {exc.strerror or exc}"
    return None


def write(dest: Destination, text: str) -> None:
    """Write a report as the module's docstring says; OSError when it cannot be."""
    data = encodable.text(text).encode("utf-8")
    if dest.path is None:
        _to_stream(sys.stdout, data)
        return
    if not dest.through:
        replace(dest.path, data)
        return
    stream = _own_stream(dest.path)
    if stream is not None:
        _to_stream(stream, data)
        return
    _through(dest.path, data)


def _own_stream(path: Path) -> TextIO | None:
    """sys.stdout or sys.stderr when path leads to the file that stream writes to."""
    try:
        there = path.stat()
    except OSError:
        return None
    for stream in (sys.stdout, sys.stderr):
        try:
            mine = os.fstat(stream.fileno())
        except (OSError, ValueError, AttributeError):
            continue
        if (mine.st_dev, mine.st_ino) == (there.st_dev, there.st_ino):
            return stream
    return None


def _to_stream(stream: TextIO, data: bytes) -> None:
    stream.flush()  # what the run printed so far comes first
    raw: BinaryIO | None = getattr(stream, "buffer", None)
    if raw is None:
        stream.write(data.decode("utf-8"))
    else:
        raw.write(data)
        raw.flush()
    stream.flush()


def _through(path: Path, data: bytes) -> None:
    # No O_CREAT: a link to a missing file is not followed to create one.
    flags = os.O_WRONLY | os.O_NOCTTY | os.O_CLOEXEC
    if stat.S_ISREG(path.stat().st_mode):
        flags |= os.O_TRUNC  # a link to a file: the file holds this report only
    fd = os.open(path, flags)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def replace(path: Path, data: bytes) -> None:
    """Replace (or create) the file at path atomically: a reader sees the previous content
    or the new one, never half of one. A regular file's mode is kept; whatever else is at
    path (a link planted since the run began) is replaced, never followed."""
    try:
        old = path.lstat()
    except FileNotFoundError:
        old = None
    keep = old is not None and stat.S_ISREG(old.st_mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0)
    os.umask(umask)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, stat.S_IMODE(old.st_mode) if old and keep else 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
