"""Commands on this machine, through /bin/sh."""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import subprocess
import threading
import time

from kit.connection import sudo
from kit.connection.base import Connection
from kit.connection.secrets import Secret
from kit.errors import CommandNotStarted, CommandTimeout

_CHUNK = 1 << 16
_GRACE = 1.0  # between TERM and KILL: time for a shell's traps to clean up


class LocalConnection(Connection):
    def _argv(self, cmdline: str) -> list[str]:
        """The program that runs cmdline; a subclass may run it elsewhere (nsenter)."""
        return ["/bin/sh", "-c", cmdline]

    def _exec(
        self, cmdline: str, *, stdin: bytes | sudo.Input | None, timeout: float | None
    ) -> tuple[int, bytes, bytes]:
        feed = sudo.as_input(stdin)
        # A session of its own lets a timeout kill the command and all it started.
        try:
            proc = subprocess.Popen(
                self._argv(cmdline),
                stdin=subprocess.PIPE if feed is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            raise CommandNotStarted(self.name, exc.strerror or str(exc)) from None
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            out, err = _talk(proc, feed, deadline)
            wait = None if deadline is None else max(0.0, deadline - time.monotonic())
            rc = proc.wait(wait)
        except (_Expired, subprocess.TimeoutExpired):
            _stop_group(proc)
            raise CommandTimeout(cmdline, timeout or 0) from None
        except BaseException:
            _stop_group(proc)
            raise
        return rc, out, err


class _Expired(Exception):
    pass


def _talk(
    proc: subprocess.Popen[bytes], feed: sudo.Input | None, deadline: float | None
) -> tuple[bytes, bytes]:
    """Read both streams to their end; write stdin as the sudo dialog allows."""
    assert proc.stdout is not None and proc.stderr is not None
    out, err = bytearray(), bytearray()
    writer: list[threading.Thread] = []

    def start_data() -> None:
        assert proc.stdin is not None and feed is not None
        if feed.data:
            thread = threading.Thread(target=_write, args=(proc.stdin, feed.data), daemon=True)
            thread.start()
            writer.append(thread)
        else:
            end_input()

    def send_secret(secret: Secret) -> None:
        assert proc.stdin is not None
        fd = proc.stdin.fileno()
        with contextlib.suppress(OSError):
            secret.write_line(lambda line: os.write(fd, line))

    def end_input() -> None:
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.close()

    dialog = sudo.Dialog(feed) if feed is not None else None
    if dialog is not None and not dialog.waiting:
        start_data()
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ, out)
        sel.register(proc.stderr, selectors.EVENT_READ, err)
        while sel.get_map():
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise _Expired
            for key, _ in sel.select(wait):
                chunk = os.read(key.fd, _CHUNK)
                if chunk:
                    key.data.extend(chunk)
                else:
                    sel.unregister(key.fileobj)
            if dialog is not None and dialog.waiting:
                dialog.advance(err, send_secret, start_data, end_input)
    if dialog is not None and dialog.waiting:
        end_input()  # sudo ended without running the command
    for thread in writer:
        thread.join()
    return bytes(out), bytes(err)


def _write(pipe: object, data: bytes) -> None:
    # A command that exits without reading its input closes the pipe under us.
    with contextlib.suppress(OSError, ValueError):
        pipe.write(data)  # type: ignore[attr-defined]
        pipe.close()  # type: ignore[attr-defined]


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """TERM the command's group, so that its shell's traps can clean up, then KILL it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(_GRACE)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError):
                pipe.close()
