"""One fixer per host: a lock under /run that names its run and the process holding it.

The holder is the process whose life bounds the run's access to the host: sshd's
session process for an SSH connection, the controller itself for a local one. A
lock whose holder is gone (the controller was killed, the connection dropped, the
host rebooted and emptied /run) is stale and is taken over; a live one makes the
next run wait, then give up. The check-and-take runs under flock(1), so two runs
racing for a stale lock cannot both win.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from kit.connection import Connection, quote
from kit.errors import KitError
from kit.runner import lifeline

LOCK_DIR = "/run/hostkit"

_TAKE = """set -e
d={dir}; mkdir -p -m 0755 "$d"
exec 9>>"$d/fix.lock.guard"
flock -w 10 9
o="$d/fix.owner"
if [ -s "$o" ]; then
  read run pid start < "$o" || true
  if [ "$run" != {run} ] && [ -r /proc/$pid/stat ]; then
    now=$(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f20)
    [ "$now" = "$start" ] && {{ echo "busy $run"; exit 0; }}
  fi
fi
printf '%s %s %s\\n' {run} {pid} {start} > "$o.tmp" && mv -f "$o.tmp" "$o"
echo taken
"""
_RELEASE = """d={dir}; exec 9>>"$d/fix.lock.guard"; flock -w 10 9
read run rest < "$d/fix.owner" 2>/dev/null && [ "$run" = {run} ] && rm -f "$d/fix.owner"
true"""


class HostBusy(KitError):
    """Another run holds the host's fix lock."""

    def __init__(self, host: str, holder: str, waited: float) -> None:
        super().__init__(
            f"{host}: another hostkit run ({holder}) is fixing this host; waited {waited:g}s"
        )
        self.holder = holder


@dataclass
class HostLock:
    conn: Connection
    run_id: str
    directory: str = LOCK_DIR
    held: bool = False

    def acquire(self, timeout: float, poll: float = 1.0) -> None:
        """Take the lock, waiting up to timeout seconds; HostBusy when it stays taken."""
        pid, start = self._holder()
        deadline = time.monotonic() + timeout
        while True:
            script = _TAKE.format(
                dir=quote(self.directory), run=quote(self.run_id), pid=pid, start=quote(start)
            )
            res = self.conn.run("sh -c %s", script, sudo=True)
            answer = res.stdout.strip()
            if res.ok and answer == "taken":
                self.held = True
                return
            if not (res.ok and answer.startswith("busy ")):
                raise KitError(
                    f"{self.conn.name}: cannot take the fix lock in {self.directory}: "
                    f"{(res.stderr or res.stdout).strip()[:200]}"
                )
            if time.monotonic() >= deadline:
                raise HostBusy(self.conn.name, answer[5:], timeout)
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))

    def release(self) -> None:
        if self.held:
            script = _RELEASE.format(dir=quote(self.directory), run=quote(self.run_id))
            self.conn.run("sh -c %s", script, sudo=True)
            self.held = False

    def _holder(self) -> tuple[int, str]:
        line = lifeline.read(self.conn)
        controller = os.getpid() if line.transport == "local" else None
        proc = line.holder(controller)
        if proc is None:
            raise KitError(f"{self.conn.name}: cannot tell which process holds this connection")
        return proc.pid, proc.start
