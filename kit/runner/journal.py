"""A fix run's record on the host it changes: saved files, and a journal of every step.

    /var/lib/hostkit/runs/<run-id>/journal     one JSON object a line
    /var/lib/hostkit/runs/<run-id>/files/<n>   a file as it was before step n
    /var/lib/hostkit/runs/<run-id>/complete    present once the run ended normally

A step's entry is appended before the step runs and completed after it, so a run
cut short (controller killed, connection lost) leaves the step in flight on
record. The runner's writes call `file_step` and `live_step`; they record only
while a journal is active for that connection (the fix flow activates one around
each remediation), and do nothing otherwise.

Entries, as `read_runs` gives them back: `{"event": "start", "run", "time"}` first and
`{"event": "end", "time"}` last; a step's `{"seq", "state": "begin", "time", "check",
"op", "path", "saved", "sha256_before"}` then `{"seq", "state": "done", "sha256_after"}`
("" for a file that is absent or not a regular file), and `{"seq", "state":
"restored"}` when a failed fix put its file back; notes carry an "event". A live step's
op is the command's own words, and holds what undoing it needs: `sysctl KEY=NEW (was
OLD)`, `enable|disable|start|stop|restart UNIT`, `modprobe NAME`, `mask UNIT`.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from kit.connection import Connection, quote
from kit.errors import KitError

ROOT = "/var/lib/hostkit/runs"
KEEP = 20
_ACTIVE: ContextVar[Journal | None] = ContextVar("hostkit_journal", default=None)
_SHA = "@SHA256@"
_SEP = "\x1e"

# Save the file as it is (cp -a keeps mode, owner, times, a symlink as a symlink),
# then append the entry with the file's digest filled in. "" stands for absent.
_BEGIN = """set -e
d={dir}; p={path}; n={seq}
sha=
if [ -L "$p" ] || [ -e "$p" ]; then
  [ {save} = yes ] && cp -a -- "$p" "$d/files/$n"
  [ -f "$p" ] && sha=$(sha256sum < "$p" | cut -c1-64)
fi
printf '%s%s%s\\n' {head} "$sha" {tail} >> "$d/journal"
"""
_DONE = """p={path}; sha=
[ -f "$p" ] && sha=$(sha256sum < "$p" | cut -c1-64)
printf '%s%s%s\\n' {head} "$sha" {tail} >> {journal}
"""
# Back as it was, atomically: a copy beside the target renamed over it. No saved copy
# means the file did not exist before, so it goes.
_RESTORE = """set -e
p={path}; s={saved}
if [ -n "$s" ] && {{ [ -e "$s" ] || [ -L "$s" ]; }}; then
  tmp="$(dirname -- "$p")/.hostkit-restore.$$"
  cp -a -- "$s" "$tmp" && mv -f -T -- "$tmp" "$p" || {{ rm -f -- "$tmp"; exit 1; }}
elif [ -L "$p" ] || [ -f "$p" ]; then rm -f -- "$p"
fi
"""
_RECORD = """printf '%s\\n' {entry} >> {journal}
"""
# Every run: its name, whether it ended, then its journal.
_LIST = """r={root}
for d in "$r"/*/; do
  d=${{d%/}}; [ -e "$d/journal" ] || continue
  c=no; [ -e "$d/complete" ] && c=yes
  printf '{sep}%s %s\\n' "${{d##*/}}" "$c"; cat -- "$d/journal"
done
"""
# Each path's digest, "" when absent or not a regular file, as the journal has it.
_PROBE = """for p; do
  sha=; [ -f "$p" ] && sha=$(sha256sum < "$p" | cut -c1-64)
  printf '%s\\n' "$sha"
done
"""
_OPEN = """set -e
r={root}; me={run}
umask 077
mkdir -p -- "$r/$me/files"
for d in "$r"/*/; do
  d=${{d%/}}; [ "$d" = "$r/$me" ] && continue
  [ -e "$d/complete" ] || [ -e "$d/noticed" ] || [ ! -e "$d/journal" ] && continue
  printf '{sep}%s\\n' "${{d##*/}}"; cat -- "$d/journal"; : > "$d/noticed"
done
printf '%s\\n' {entry} >> "$r/$me/journal"
set -- $(ls -1 -- "$r" | sort); n=$#
for old; do
  [ "$n" -gt {keep} ] || break
  [ "$old" = "$me" ] || rm -rf -- "$r/$old"
  n=$((n - 1))
done
"""


class JournalError(KitError):
    """The run's record on the host could not be written or read."""


@dataclass(frozen=True)
class Step:
    seq: int
    op: str
    path: str | None
    saved: str | None  # where the old file was kept; None when it did not exist


@dataclass(frozen=True)
class Interrupted:
    """An earlier run on this host that never finished."""

    run: str
    in_flight: list[str]

    def __str__(self) -> str:
        steps = "; ".join(self.in_flight) or "no step was in flight"
        return f"earlier run {self.run} did not finish ({steps})"


@dataclass
class Journal:
    """One run's record on one host."""

    conn: Connection
    run_id: str
    root: str = ROOT
    keep: int = KEEP
    check_id: str = ""
    _seq: int = 0
    _opened: bool = False
    _steps: list[Step] = field(default_factory=list)  # the current fix's file steps
    in_flight: str | None = None
    last_step: str | None = None
    live_done: list[str] = field(default_factory=list)  # the current fix's live changes
    _completed: set[int] = field(default_factory=set)

    @property
    def dir(self) -> str:
        return f"{self.root}/{self.run_id}"

    def open(self) -> list[Interrupted]:
        """Make the run's directory, prune old runs, and return unfinished earlier ones."""
        entry = _dumps(event="start", run=self.run_id, time=_now())
        script = _OPEN.format(
            root=quote(self.root),
            run=quote(self.run_id),
            entry=quote(entry),
            keep=int(self.keep),
            sep=_SEP,
        )
        res = self.conn.run("sh -c %s", script, sudo=True)
        if not res.ok:
            raise JournalError(f"{self.conn.name}: cannot open the run record {self.dir}")
        self._opened = True
        return parse_unfinished(res.stdout)

    def close(self) -> None:
        """Mark the run as ended normally."""
        if self._opened:
            entry = _dumps(event="end", time=_now())
            self.conn.run(
                "printf '%%s\\n' %s >> %s && : > %s",
                entry,
                f"{self.dir}/journal",
                f"{self.dir}/complete",
                sudo=True,
            )
            self._opened = False

    # -- one remediation ---------------------------------------------------------

    @contextlib.contextmanager
    def fix(self, check_id: str) -> Iterator[Journal]:
        """Record the runner's writes to this journal's host while the block runs."""
        self.check_id, self._steps, self.live_done = check_id, [], []
        self.in_flight = self.last_step = None
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)

    def rollback(self) -> list[str]:
        """Put back every file the current fix changed, newest first; the paths of those
        whose change had completed (a step cut short is put back too, but it was never
        more than begun)."""
        restored = []
        for step in reversed(self._steps):
            assert step.path is not None
            saved = f"{self.dir}/{step.saved}" if step.saved else None
            entry = _RECORD.format(
                entry=quote(_dumps(seq=step.seq, state="restored")),
                journal=quote(f"{self.dir}/journal"),
            )
            put_back(self.conn, step.path, saved, then=entry)
            if step.seq in self._completed:
                restored.append(step.path)
        self._steps = []
        return restored

    def note(self, **fields: object) -> None:
        self.conn.run(
            "printf '%%s\\n' %s >> %s", _dumps(**fields), f"{self.dir}/journal", sudo=True
        )

    # -- steps -------------------------------------------------------------------

    def _begin(self, op: str, path: str | None, save: bool) -> Step:
        self._seq += 1
        seq = self._seq
        saved = f"files/{seq}" if save else None
        head, tail = _dumps(
            seq=seq,
            state="begin",
            time=_now(),
            check=self.check_id,
            op=op,
            path=path,
            saved=saved,
            sha256_before=_SHA,
        ).split(_SHA)
        script = _BEGIN.format(
            dir=quote(self.dir),
            path=quote(path or "/nonexistent/"),
            seq=seq,
            save="yes" if save else "no",
            head=quote(head),
            tail=quote(tail),
        )
        if not self.conn.run("sh -c %s", script, sudo=True).ok:
            raise JournalError(f"{self.conn.name}: cannot record step {op} {path or ''}")
        self.in_flight = f"{op} {path}" if path else op
        self.last_step = self.in_flight
        return Step(seq, op, path, saved)

    def _done(self, step: Step) -> None:
        head, tail = _dumps(seq=step.seq, state="done", sha256_after=_SHA).split(_SHA)
        script = _DONE.format(
            path=quote(step.path or "/nonexistent/"),
            head=quote(head),
            tail=quote(tail),
            journal=quote(f"{self.dir}/journal"),
        )
        self.conn.run("sh -c %s", script, sudo=True)
        self.in_flight = None
        self._completed.add(step.seq)


def put_back(conn: Connection, path: str, saved: str | None, then: str = "") -> None:
    """Make path what the saved copy is (content, mode, owner, times), atomically; with no
    saved copy (None, or absent on the host: the file did not exist), remove it."""
    script = _RESTORE.format(path=quote(path), saved=quote(saved or "")) + then
    if not conn.run("sh -c %s", script, sudo=True).ok:
        raise JournalError(f"{conn.name}: could not put back {path} (saved as {saved})")


def digests(conn: Connection, paths: list[str]) -> list[str]:
    """Each path's sha256 as the journal records it: "" when absent or not a regular file."""
    if not paths:
        return []
    res = conn.read("sh -c %s sh" + " %s" * len(paths), _PROBE, *paths, sudo=True)
    lines = res.stdout.split("\n")
    if not res.ok or len(lines) < len(paths):
        raise JournalError(f"{conn.name}: cannot read the files a run changed")
    return lines[: len(paths)]


def exists(conn: Connection, path: str) -> bool:
    return conn.read("test -e %s -o -L %s", path, path, sudo=True).ok


@dataclass(frozen=True)
class RunRecord:
    """One run's journal as read back from a host."""

    host: str
    run: str
    finished: bool
    entries: list[dict[str, object]]

    @property
    def started(self) -> str:
        first = self.entries[0] if self.entries else {}
        return str(first.get("time", "")) if first.get("event") == "start" else ""

    @property
    def steps(self) -> list[dict[str, object]]:
        return [e for e in self.entries if e.get("state") == "begin"]

    @property
    def undoes(self) -> str | None:
        for entry in self.entries:
            if entry.get("event") == "undo":
                return str(entry.get("of"))
        return None


def read_runs(conn: Connection, root: str = ROOT) -> list[RunRecord]:
    """Every run recorded on the host, oldest first."""
    res = conn.read("sh -c %s", _LIST.format(root=quote(root), sep=_SEP), sudo=True)
    if not res.ok:
        raise JournalError(f"{conn.name}: cannot read the runs in {root}")
    runs = []
    for block in res.stdout.split(_SEP)[1:]:
        head, _, body = block.partition("\n")
        run, _, complete = head.strip().partition(" ")
        entries = []
        for line in body.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by an interruption
            if isinstance(entry, dict):
                entries.append(entry)
        runs.append(RunRecord(conn.name, run, complete == "yes", entries))
    return sorted(runs, key=lambda r: r.run)


def active(conn: Connection) -> Journal | None:
    journal = _ACTIVE.get()
    return journal if journal is not None and journal.conn is conn else None


def file_step(
    conn: Connection, op: str, path: str, *, dry_run: bool = False
) -> contextlib.AbstractContextManager[None]:
    """Around a write that changes or removes the file at path: saved first, so a failed
    fix can put it back, and recorded before and after."""
    return _step(conn, op, path, save=True, dry_run=dry_run)


def path_step(
    conn: Connection, op: str, path: str, *, dry_run: bool = False
) -> contextlib.AbstractContextManager[None]:
    """Around a change to a directory tree: recorded, not saved."""
    return _step(conn, op, path, save=False, dry_run=dry_run)


def live_step(
    conn: Connection, op: str, *, dry_run: bool = False
) -> contextlib.AbstractContextManager[None]:
    """Around a change to live state (a unit, a sysctl, a module): recorded, not saved."""
    return _step(conn, op, None, save=False, dry_run=dry_run)


@contextlib.contextmanager
def _step(
    conn: Connection, op: str, path: str | None, *, save: bool, dry_run: bool
) -> Iterator[None]:
    journal = None if dry_run else active(conn)
    if journal is None:
        yield
        return
    step = journal._begin(op, path, save=save)
    if save:
        journal._steps.append(step)
    yield
    journal._done(step)
    if path is None:
        journal.live_done.append(op)


def parse_unfinished(text: str) -> list[Interrupted]:
    """Earlier runs from _OPEN's output, with the steps begun and never completed."""
    found = []
    for block in text.split(_SEP)[1:]:
        run, _, body = block.partition("\n")
        begun: dict[int, str] = {}
        for line in body.splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by the interruption itself
            if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int):
                continue
            if entry.get("state") == "begin":
                what = f"{entry.get('op')} {entry.get('path') or ''}".strip()
                check = entry.get("check")
                begun[entry["seq"]] = f"{what} for {check}" if check else what
            else:
                begun.pop(entry["seq"], None)
        found.append(Interrupted(run.strip(), list(begun.values())))
    return found


def _dumps(**fields: object) -> str:
    return json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=True)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
