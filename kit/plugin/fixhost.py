"""A host's side of one --fix run: its lock, its journal, and what became of it.

Prepared on the first fix the host needs, so read-only runs and compliant hosts
never take the lock or write a record; closed when the run ends.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kit.errors import KitError
from kit.runner import hostlock, journal, nottaken
from kit.runner.hostlock import HostBusy, HostLock
from kit.runner.journal import Journal
from kit.runner.nottaken import NotTaken

if TYPE_CHECKING:
    from kit.plugin.hosts import HostContext

NEW, READY, HELD, LOST = "new", "ready", "held", "lost"


def new_run_id() -> str:
    """Sortable by start time, to the microsecond (two runs on one host may start within a
    second: the later one's notes are the ones that count), unique across controllers."""
    now = time.time_ns() // 1000
    seconds, micros = divmod(now, 1_000_000)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(seconds))
    return f"{stamp}.{micros:06d}Z-{secrets.token_hex(4)}"


@dataclass
class HostFixes:
    ctx: HostContext
    run_id: str
    lock_timeout: float
    runs_dir: str = journal.ROOT
    lock_dir: str = hostlock.LOCK_DIR
    status: str = NEW
    reason: str = ""
    journal: Journal | None = None
    lock: HostLock | None = None
    notices: list[str] = field(default_factory=list)
    earlier: dict[tuple[str, str], NotTaken] | None = None  # read once, on the first fix
    # kit.plugin.fixpackages: whether the host's fixes' packages were looked for yet, and
    # what each check whose packages were installed ahead failed with, by node id.
    packages_planned: bool = False
    failed_ahead: dict[str, AssertionError] = field(default_factory=dict)

    def not_taken(self, check_id: str, params_key: str) -> NotTaken | None:
        """The earlier run whose fix of this check (with these parameters) was made and did
        not take, when that was the last run to fix it. Read before the lock is taken or a
        record opened, so a run that only finds such fixes writes nothing on the host."""
        if self.earlier is None:
            try:
                self.earlier = nottaken.read(self.ctx.conn, self.runs_dir)
            except KitError:
                self.earlier = {}  # unreadable: the fixes run as they always did
        return self.earlier.get((check_id, params_key))

    def prepare(self) -> str | None:
        """Ready the host for fixes; None when they may run, else why they may not."""
        if self.status == NEW:
            try:
                conn = self.ctx.conn
                self.lock = HostLock(conn, self.run_id, self.lock_dir)
                self.journal = Journal(conn, self.run_id, self.runs_dir)
                # The record is opened in the command that takes the lock, once it is taken.
                taken = self.lock.acquire(self.lock_timeout, then=self.journal.open_script())
                self.notices += [str(earlier) for earlier in self.journal.opened(taken)]
                self.status = READY
            except HostBusy as exc:
                self.hold(exc.args[0].partition(": ")[2])
            except KitError as exc:
                self.hold(f"cannot prepare the host for fixes: {exc}")
        return None if self.status == READY else self.reason

    def hold(self, reason: str, status: str = HELD) -> None:
        self.status, self.reason = status, reason

    def lost(self, reason: str) -> None:
        """The connection went away mid-fix: no more fixes on this host in this run."""
        self.hold(f"the connection was lost during an earlier fix ({reason})", LOST)

    def close(self) -> None:
        """The record closed and the lock released, in one command, the record first."""
        if self.status == LOST:
            return
        release = self.lock.release_script() if self.lock is not None and self.lock.held else ""
        with contextlib.suppress(KitError):
            if self.journal is not None:
                self.journal.close(then=release)
            elif release:
                self.ctx.conn.run("sh -c %s", release, sudo=True)
