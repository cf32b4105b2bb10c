"""Processes: signalling one, never one the kit's own connection runs through."""

from __future__ import annotations

from kit.connection import Connection
from kit.errors import KitValueError
from kit.runner import protect
from kit.runner.change import Change

_SIGNALS = ("TERM", "KILL", "INT", "HUP", "QUIT", "USR1", "USR2")


def kill_process(
    conn: Connection, pid: int, signal: str = "TERM", *, dry_run: bool = False
) -> Change:
    """Send signal to pid; a pid already gone is no change."""
    if isinstance(pid, bool) or not isinstance(pid, int) or pid <= 0:
        raise KitValueError(f"invalid pid: {pid!r}")
    if signal not in _SIGNALS:
        raise KitValueError(f"invalid signal {signal!r}; one of {', '.join(_SIGNALS)}")
    if not conn.read("test -d /proc/%s", str(pid)).ok:
        return Change.none(f"pid {pid} already gone", dry_run=dry_run)
    protect.process(conn, pid, f"send SIG{signal} to")
    if not dry_run:
        conn.run("kill -s %s %s", signal, str(pid), sudo=True).check()
    return Change.made(f"pid {pid} sent SIG{signal}", dry_run=dry_run)
