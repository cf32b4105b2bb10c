"""Processes the kit started, known by pid and start time so a reused pid is never hit."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# Popen objects of this process's own children, so they are reaped, not left as zombies.
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class Proc:
    pid: int
    start: int  # clock ticks since boot, field 22 of /proc/PID/stat

    def alive(self) -> bool:
        child = _children.get(self.pid)
        if child is not None and child.poll() is not None:
            return False
        return self.pid > 0 and start_time(self.pid) == self.start


def start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name may hold spaces and parentheses: split after the last ")"
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return None
    return int(fields[19])


def spawn(argv: list[str], log: Path) -> Proc:
    with log.open("ab") as out:
        child = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    _children[child.pid] = child
    start = start_time(child.pid)
    return Proc(child.pid, start if start is not None else -1)


def stop(proc: Proc, timeout: float) -> bool:
    """SIGTERM, wait, then SIGKILL. Return whether a live process was stopped."""
    if not proc.alive():
        _reap(proc.pid)
        return False
    _signal(proc, signal.SIGTERM)
    if not _wait(proc, timeout):
        _signal(proc, signal.SIGKILL)
        _wait(proc, 10)
    _reap(proc.pid)
    return True


def _signal(proc: Proc, sig: int) -> None:
    if proc.alive():
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, sig)


def _wait(proc: Proc, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            return True
        time.sleep(0.1)
    return not proc.alive()


def _reap(pid: int) -> None:
    child = _children.pop(pid, None)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=5)
