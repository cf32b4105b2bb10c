"""Commands on this machine, through /bin/sh."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess

from kit.connection.base import Connection
from kit.errors import CommandTimeout


class LocalConnection(Connection):
    def _exec(
        self, cmdline: str, *, stdin: bytes | None, timeout: float | None
    ) -> tuple[int, bytes, bytes]:
        # A session of its own lets a timeout kill the command and all it started.
        proc = subprocess.Popen(
            ["/bin/sh", "-c", cmdline],
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise CommandTimeout(cmdline, timeout or 0) from None
        except BaseException:
            _kill_group(proc)
            raise
        return proc.returncode, out, err


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
