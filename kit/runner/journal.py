"""A fix run's record on the host it changes: saved files, and a journal of every step.

    /var/lib/hostkit/runs/<run-id>/journal     one JSON object a line
    /var/lib/hostkit/runs/<run-id>/files/<n>   a file as it was before step n
    /var/lib/hostkit/runs/<run-id>/complete    present once the run ended normally

A step's entry is appended before the step runs and completed after it, so a run
cut short (controller killed, connection lost) leaves the step in flight on
record. The completion goes with the journal's next command (the next step's begin),
at the latest when its fix ends: a step cut short after its change and before that
is on record as in flight, which is what undo and the next run treat with care.
The runner's writes call `file_step` and `live_step`; they record only while a
journal is active for that connection (the fix flow activates one around each
remediation), and do nothing otherwise.

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
import re
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from kit.connection import Connection, Result, quote
from kit.errors import CommandTimeout, ConnectError, KitError, WriteInterrupted
from kit.runner import runrecord
from kit.runner.runrecord import RecordError, RunRecord

__all__ = ["RecordError", "RunRecord"]

ROOT = "/var/lib/hostkit/runs"
KEEP = 20
NOTICES = 20  # unfinished earlier runs reported when a run opens
MAX_TOTAL = 64 << 20  # bytes of journal read from one host in one listing
_ACTIVE: ContextVar[Journal | None] = ContextVar("hostkit_journal", default=None)
_SHA = "@SHA256@"
_SHA_SLOT = json.dumps(_SHA)  # where the host fills in a digest, a JSON value
_SEQ = "@SEQ@"  # where it fills in a step number
_SLOTS = re.compile(f"({re.escape(json.dumps(_SEQ))}|{_SEQ}|{re.escape(_SHA_SLOT)})")
_SEP = "\x1e"

# What the journal records of a path, as a JSON value, never following a link: the
# sha256 of a regular file, "" for anything else that exists (a link, a directory),
# null for nothing there. Undo removes a path only when it was null before the run.
_DIGEST = """dg() {
  if [ -L "$1" ]; then printf '""'
  elif [ -f "$1" ]; then printf '"%s"' "$(sha256sum < "$1" | cut -c1-64)"
  elif [ -e "$1" ]; then printf '""'
  else printf null; fi
}
"""
# The run's own directory, checked before each write into it: made by _OPEN, so a
# link or anything else there was not made by the kit.
_MINE = """[ ! -L "$d" ] && [ -d "$d" ] && [ ! -L "$d/files" ] && [ -d "$d/files" ] \
  && [ ! -L "$d/journal" ] && [ -f "$d/journal" ] \
  || { echo "hostkit: $d is not the run directory the kit made" >&2; exit 1; }
"""


def _literal(script: str) -> str:
    """script as a part of a str.format template: its braces kept as they are."""
    return script.replace("{", "{{").replace("}", "}}")


# Save the file as it is (cp -a keeps mode, owner, times, a symlink as a symlink) under a
# name that must not exist yet, then append the entry with the digest filled in, and
# print the digest.
_BEGIN = (
    "set -e\nd={dir}; p={path}; n={seq}\n"
    + _literal(_DIGEST + _MINE)
    + """# The step's number, reserved with mkdir: another name of this host in the same run
# (an alias) records into the same directory, and no two steps may share a saved copy.
until mkdir -- "$d/seq/$n" 2>/dev/null; do
  n=$((n + 1)); [ "$n" -le {max_step} ] || exit 1
done
sha=$(dg "$p")
if [ {save} = yes ] && {{ [ -L "$p" ] || [ -e "$p" ]; }}; then
  [ ! -L "$d/files/$n" ] && [ ! -e "$d/files/$n" ] || exit 1
  cp -a -- "$p" "$d/files/$n"
fi
{{ printf '%s' {entry}; echo; }} >> "$d/journal"
printf '%s %s\\n' "$n" "$sha"
"""
)
_DONE = (
    "d={dir}; p={path}\n"
    + _literal(_DIGEST + _MINE)
    + """printf '%s%s%s\\n' {head} "$(dg "$p")" {tail} >> "$d/journal"
"""
)
# Back as it was, atomically, from a saved copy checked first: it is what the record
# says was there (a regular file of that sha256, or else no regular file), in the run's
# own files/ directory. The copy goes into a new private directory beside the target
# (nothing planted there can be written through), then is renamed over it. "absent":
# the file did not exist before, so it goes.
_RESTORE = """set -e
p={path}; s={saved}; want={want}; d={dir}
fail() {{ echo "hostkit: $*" >&2; exit 3; }}
if [ "$want" = absent ]; then
  if [ -L "$p" ] || [ -f "$p" ]; then rm -f -- "$p"; fi
else
  [ ! -L "$d" ] && [ -d "$d" ] && [ ! -L "$d/files" ] && [ -d "$d/files" ] \
    || fail "the run directory is not one the kit made"
  [ -L "$s" ] || [ -e "$s" ] || fail "the saved copy is missing"
  if [ "$want" = other ]; then
    [ -L "$s" ] || [ ! -f "$s" ] || fail "the saved copy is a regular file, not what was there"
  else
    [ ! -L "$s" ] && [ -f "$s" ] || fail "the saved copy is not a regular file"
    [ "$(sha256sum < "$s" | cut -c1-64)" = "$want" ] \
      || fail "the saved copy's sha256 is not the recorded sha256_before"
  fi
  t=$(mktemp -d "$(dirname -- "$p")/.hostkit-restore.XXXXXXXX")
  if cp -a -- "$s" "$t/f" && mv -f -T -- "$t/f" "$p"; then rmdir -- "$t"
  else rm -rf -- "$t"; exit 1; fi
fi
"""
_RECORD = """printf '%s\\n' {entry} >> {journal}
"""
_CLOSE = """printf '%s\\n' {entry} >> {journal} && (set -C; : > {complete})
"""
# Runs (all, or only one), newest MAX_RUNS, each framed by a header that says how many
# bytes of its journal follow, so nothing in a journal can pass for a header. A run that
# cannot be read safely is named with why; a journal is read up to a bound.
_LIST = """LC_ALL=C
r={root}; only={only}; left={total}
if [ -L "$r" ]; then echo "hostkit: $r is a symbolic link" >&2; exit 2; fi
[ -d "$r" ] || exit 0
if [ -n "$only" ]; then set -- "$r/$only"; else set -- "$r"/*; fi
[ $# -le {max_runs} ] || shift $(($# - {max_runs}))
for d; do
  [ -e "$d" ] || [ -L "$d" ] || continue
  n=${{d##*/}}
  case $n in *[!A-Za-z0-9._-]*|.|..) printf '{sep}- invalid 0\\n'; continue;; esac
  if [ -L "$d" ]; then printf '{sep}%s link 0\\n' "$n"; continue; fi
  [ -d "$d" ] || continue
  j=$d/journal
  [ -e "$j" ] || [ -L "$j" ] || continue
  if [ -L "$j" ] || [ ! -f "$j" ]; then printf '{sep}%s notfile 0\\n' "$n"; continue; fi
  c=no; [ -e "$d/complete" ] && c=yes
  s=$(wc -c < "$j"); [ "$s" -le {max} ] || s=$(({max} + 1))
  if [ "$s" -gt "$left" ]; then printf '{sep}%s toomuch 0\\n' "$n"; continue; fi
  left=$((left - s))
  printf '{sep}%s %s %s\\n' "$n" "$c" "$s"
  head -c "$s" < "$j"
done
"""
# Each path's digest, as the journal has it.
_PROBE = (
    _DIGEST
    + """for p; do dg "$p"; echo; done
"""
)
# The runs directory, made or checked: a directory, not a link, owned by the user the
# kit runs as and writable by no one else; then this run's directory and journal (mkdir
# and noclobber never follow a link; what exists already must be ours and not a link). Unfinished
# earlier runs are reported (unless asked not to) and marked noticed, skipping any that
# is a link; then old runs are pruned (rm -rf removes a link, never its target).
_OPEN = """set -e
LC_ALL=C
r={root}; me={run}
umask 077
mkdir -p -- "$r"
[ ! -L "$r" ] && [ -d "$r" ] || {{ echo "hostkit: $r is not a directory" >&2; exit 1; }}
[ "$(stat -c %u -- "$r")" = "$(id -u)" ] \\
  || {{ echo "hostkit: $r is not owned by $(id -un)" >&2; exit 1; }}
case $(stat -c %A -- "$r") in
  ?????w????|????????w?) echo "hostkit: $r is writable by others" >&2; exit 1;;
esac
d=$r/$me
# Made here, or already by this run for another name of the same host: either way a
# directory of ours, never a link.
mine() {{ [ ! -L "$1" ] && [ -d "$1" ] && [ "$(stat -c %u -- "$1")" = "$(id -u)" ] \\
  || {{ echo "hostkit: $1 is not a directory the kit made" >&2; exit 1; }}; }}
mkdir -- "$d" 2>/dev/null || true; mine "$d"
mkdir -- "$d/files" 2>/dev/null || true; mine "$d/files"
mkdir -- "$d/seq" 2>/dev/null || true; mine "$d/seq"
( set -C; printf '%s\\n' {entry} > "$d/journal" ) 2>/dev/null \\
  || {{ [ ! -L "$d/journal" ] && [ -f "$d/journal" ] && printf '%s\\n' {entry} >> "$d/journal"; }}
if [ {notice} = yes ]; then
  shown=0
  for d in "$r"/*; do
    n=${{d##*/}}
    [ "$n" = "$me" ] && continue
    case $n in *[!A-Za-z0-9._-]*) continue;; esac
    [ ! -L "$d" ] && [ -d "$d" ] && [ ! -L "$d/journal" ] && [ -f "$d/journal" ] || continue
    if [ -e "$d/complete" ] || [ -e "$d/noticed" ] || [ -L "$d/noticed" ]; then continue; fi
    shown=$((shown + 1)); [ "$shown" -le {notices} ] || break
    printf '{sep}%s\\n' "$n"; head -c {max} -- "$d/journal"; echo
    ( set -C; : > "$d/noticed" ) 2>/dev/null || true
  done
fi
set -- "$r"/*; n=$#
for old; do
  [ "$n" -gt {keep} ] || break
  [ "$old" = "$r/$me" ] || rm -rf -- "$old"
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
    saved: str | None  # where the old file was kept, relative to the run's directory
    before: str | None = None  # its sha256, "" when not a regular file, None when absent


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
    # The done entry of the last step, not yet on the host: it goes with the next command
    # the journal sends (the next step's begin, the fix's end, a note, the close), one
    # round trip fewer per step. The step's change is complete either way; the entry says so.
    _pending: str = ""
    # Packages installed for several fixes in one call (kit.runner.packages), each with
    # all of that call's: a fix that needed one says so.
    installed_together: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def dir(self) -> str:
        return f"{self.root}/{self.run_id}"

    def open(self, *, notice: bool = True) -> list[Interrupted]:
        """Make the run's directory, prune old runs, and return unfinished earlier ones,
        marking them noticed so the next run does not report them again; notice=False
        (an undo's own record) neither reports nor marks them."""
        return self.opened(self.conn.run("sh -c %s", self.open_script(notice=notice), sudo=True))

    def open_script(self, *, notice: bool = True) -> str:
        """What open sends, for a caller that sends it with its own (kit.plugin.fixhost:
        after the lock is taken, in the same command); then hand the result to opened."""
        if not runrecord.valid_run_id(self.run_id):
            raise JournalError(f"{self.conn.name}: invalid run id {self.run_id!r}")
        entry = _dumps(event="start", run=self.run_id, time=_now())
        return _OPEN.format(
            root=quote(self.root),
            run=quote(self.run_id),
            entry=quote(entry),
            keep=int(self.keep),
            notice="yes" if notice else "no",
            notices=NOTICES,
            max=runrecord.MAX_JOURNAL,
            sep=_SEP,
        )

    def opened(self, res: Result) -> list[Interrupted]:
        """The run's record is open when open_script succeeded: the unfinished earlier runs
        it reported; JournalError when it did not."""
        if not res.ok:
            why = res.stderr.strip().splitlines()[-1:] or ["failed"]
            raise JournalError(
                f"{self.conn.name}: cannot open the run record {self.dir}: {why[0][:200]}"
            )
        self._opened = True
        return parse_unfinished(res.stdout)

    def close(self, then: str = "") -> None:
        """Mark the run as ended normally; then: a script to run after, in the same command
        whether the close was written or not (kit.plugin.fixhost: the lock's release)."""
        parts = [self._take_pending()]
        if self._opened:
            entry = _dumps(event="end", time=_now())
            parts.append(
                _CLOSE.format(
                    entry=quote(entry),
                    journal=quote(f"{self.dir}/journal"),
                    complete=quote(f"{self.dir}/complete"),
                )
            )
            self._opened = False
        parts.append(then)
        # Each in a subshell of its own: one part's exit does not skip the next.
        script = "".join(f"(\n{part}\n)\n" for part in parts if part)
        if script:
            self.conn.run("sh -c %s", script, sudo=True)

    def flush(self) -> None:
        """Send the last step's done entry now, when it waits for the next command."""
        script = self._take_pending()
        if script:
            self.conn.run("sh -c %s", script, sudo=True)

    def _take_pending(self) -> str:
        script, self._pending = self._pending, ""
        return script

    # -- one remediation ---------------------------------------------------------

    @contextlib.contextmanager
    def fix(self, check_id: str) -> Iterator[Journal]:
        """Record the runner's writes to this journal's host while the block runs."""
        self.check_id, self._steps, self.live_done = check_id, [], []
        self.in_flight = self.last_step = None
        token = _ACTIVE.set(self)
        try:
            yield self
        except BaseException:
            with contextlib.suppress(KitError):  # what went wrong is the news, not this
                self.flush()
            raise
        else:
            self.flush()  # the fix's last step on record as done before its check runs again
        finally:
            _ACTIVE.reset(token)

    def rollback(self) -> list[str]:
        """Put back every file the current fix changed, newest first; the paths of those
        whose change had completed (a step cut short is put back too, but it was never
        more than begun)."""
        self.flush()
        restored = []
        for step in reversed(self._steps):
            assert step.path is not None
            entry = _RECORD.format(
                entry=quote(_dumps(seq=step.seq, state="restored")),
                journal=quote(f"{self.dir}/journal"),
            )
            put_back(self.conn, step.path, self.dir, step.saved, step.before, then=entry)
            if step.seq in self._completed:
                restored.append(step.path)
        self._steps = []
        return restored

    def note(self, **fields: object) -> None:
        self.flush()
        self.conn.run(
            "printf '%%s\\n' %s >> %s", _dumps(**fields), f"{self.dir}/journal", sudo=True
        )

    # -- steps -------------------------------------------------------------------

    def _begin(self, op: str, path: str | None, save: bool, needs: str | None = None) -> Step:
        entry = _dumps(
            seq=_SEQ,
            state="begin",
            time=_now(),
            check=self.check_id,
            op=op,
            path=path,
            saved=f"files/{_SEQ}" if save else None,
            sha256_before=_SHA,
            needs=needs,
        )
        # The host fills in the step number it reserved and the digest it read.
        words = [
            {json.dumps(_SEQ): '"$n"', _SEQ: '"$n"', _SHA_SLOT: '"$sha"'}.get(part, quote(part))
            for part in _SLOTS.split(entry)
            if part
        ]
        # The last step's done first, in the same command: then this step's begin.
        script = self._take_pending() + _BEGIN.format(
            dir=quote(self.dir),
            path=quote(path or "/nonexistent/"),
            seq=self._seq + 1,
            max_step=runrecord.MAX_STEP,
            save="yes" if save else "no",
            entry=" ".join(words),
        )
        res = self.conn.run("sh -c %s", script, sudo=True)
        seq_text, _, sha_text = res.stdout.strip().partition(" ")
        before = _digest(sha_text) if res.ok and seq_text.isdigit() else False
        if before is False:
            raise JournalError(f"{self.conn.name}: cannot record step {op} {path or ''}")
        seq = self._seq = int(seq_text)
        self.in_flight = f"{op} {path}" if path else op
        self.last_step = self.in_flight
        return Step(seq, op, path, f"files/{seq}" if save else None, before)

    def _done(self, step: Step) -> None:
        head, tail = _dumps(seq=step.seq, state="done", sha256_after=_SHA).split(_SHA_SLOT)
        script = _DONE.format(
            dir=quote(self.dir),
            path=quote(step.path or "/nonexistent/"),
            head=quote(head),
            tail=quote(tail),
        )
        # Sent with the journal's next command; the step itself is over.
        self._pending += script
        self.in_flight = None
        self._completed.add(step.seq)

    def _failed(self, step: Step, error: BaseException) -> None:
        """The step's command answered with a failure: the step ended, it was not cut
        short. Recorded only when the host can still be told."""
        entry = _dumps(seq=step.seq, state="failed", error=str(error)[:300])
        with contextlib.suppress(KitError):
            self.conn.run("printf '%%s\\n' %s >> %s", entry, f"{self.dir}/journal", sudo=True)
        self.in_flight = None


def put_back(
    conn: Connection,
    path: str,
    run_dir: str,
    saved: str | None,
    before: str | None,
    then: str = "",
) -> None:
    """Make path what it was before the run, atomically: removed when before is None (it
    did not exist), else the saved copy (run_dir/saved) once it is checked to be what
    before says (a regular file with that sha256; for "", something else)."""
    if before is not None and saved is None:
        raise JournalError(f"{conn.name}: no saved copy of {path}, which existed before the run")
    want = "absent" if before is None else before or "other"
    script = (
        _RESTORE.format(
            path=quote(path),
            saved=quote(f"{run_dir}/{saved}" if saved else ""),
            want=quote(want),
            dir=quote(run_dir),
        )
        + then
    )
    res = conn.run("sh -c %s", script, sudo=True)
    if not res.ok:
        why = [ln for ln in res.stderr.splitlines() if ln.startswith("hostkit: ")][-1:]
        reason = why[0].removeprefix("hostkit: ") if why else "the copy or the rename failed"
        raise JournalError(f"{conn.name}: could not put back {path} ({saved}): {reason}")


def digests(conn: Connection, paths: list[str]) -> list[str | None]:
    """Each path's digest as the journal records it: a regular file's sha256, "" for
    anything else there, None for nothing."""
    found: list[str | None] = []
    batch: list[str] = []
    for i, path in enumerate(paths):
        batch.append(path)
        if i == len(paths) - 1 or sum(map(len, batch)) > 32 << 10:
            res = conn.read("sh -c %s sh" + " %s" * len(batch), _PROBE, *batch, sudo=True)
            lines = res.stdout.split("\n")
            values = [_digest(line) for line in lines[: len(batch)]]
            if not res.ok or len(values) < len(batch) or False in values:
                raise JournalError(f"{conn.name}: cannot read the files a run changed")
            found += values  # type: ignore[arg-type]
            batch = []
    return found


def exists(conn: Connection, path: str) -> bool:
    return conn.read("test -e %s -o -L %s", path, path, sudo=True).ok


def read_runs(conn: Connection, root: str = ROOT) -> list[RunRecord]:
    """Every run recorded on the host (the newest MAX_RUNS), oldest first; a run that is
    not one the kit wrote comes back with its problem and no entries."""
    return _read(conn, root, "")


def read_run(conn: Connection, run: str, root: str = ROOT) -> RunRecord | None:
    """The one run's record, None when the host has none; see read_runs."""
    if not runrecord.valid_run_id(run):
        raise RecordError(f"run {run!r}: not a run id")
    found = [r for r in _read(conn, root, run) if r.run == run]
    return found[0] if found else None


_PROBLEMS = {
    "link": "its directory is a symbolic link",
    "notfile": "its journal is not a regular file",
    "toomuch": f"not read: the runs there hold more than {MAX_TOTAL} bytes of journal",
    "invalid": "a directory whose name is not a run id",
}


def _read(conn: Connection, root: str, only: str) -> list[RunRecord]:
    script = _LIST.format(
        root=quote(root),
        only=quote(only),
        total=MAX_TOTAL,
        max=runrecord.MAX_JOURNAL,
        max_runs=runrecord.MAX_RUNS,
        sep=_SEP,
    )
    res = conn.read("sh -c %s", script, sudo=True)
    if not res.ok:
        why = res.stderr.strip().splitlines()[-1:] or ["failed"]
        raise JournalError(f"{conn.name}: cannot read the runs in {root}: {why[0][:200]}")
    out, runs, at = res.stdout_bytes, [], 0
    sep = _SEP.encode()
    while at < len(out):
        end = out.find(b"\n", at)
        head = out[at:end].split(b" ") if out[at : at + 1] == sep and end > 0 else []
        if len(head) != 3 or not head[2].isdigit():
            raise JournalError(f"{conn.name}: the listing of the runs in {root} is garbled")
        name, state, size = head[0][1:].decode("ascii", "replace"), head[1].decode(), int(head[2])
        data, at = out[end + 1 : end + 1 + size], end + 1 + size
        if len(data) != size:
            raise JournalError(f"{conn.name}: the listing of the runs in {root} is garbled")
        if state in _PROBLEMS:
            problem = f"run {name}: {_PROBLEMS[state]}"
            runs.append(RunRecord(conn.name, name, False, problem=problem))
            continue
        try:
            runs.append(runrecord.parse(conn.name, name, state == "yes", data))
        except RecordError as exc:
            runs.append(RunRecord(conn.name, name, False, problem=str(exc)))
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
    conn: Connection, op: str, *, dry_run: bool = False, needs: str | None = None
) -> contextlib.AbstractContextManager[None]:
    """Around a change to live state (a unit, a sysctl, a module, packages): recorded, not
    saved; needs, when given, is text recorded with it (which fix needed what)."""
    return _step(conn, op, None, save=False, dry_run=dry_run, needs=needs)


@contextlib.contextmanager
def _step(
    conn: Connection,
    op: str,
    path: str | None,
    *,
    save: bool,
    dry_run: bool,
    needs: str | None = None,
) -> Iterator[None]:
    journal = None if dry_run else active(conn)
    if journal is None:
        yield
        return
    step = journal._begin(op, path, save=save, needs=needs)
    if save:
        journal._steps.append(step)
    try:
        yield
    except KitError as exc:
        # The host answered with a failure: the step ended. A lost connection or a
        # timeout leaves what the step did unknown, and so does anything that is not
        # the kit's own error (an interrupt, a bug): those stay in flight on record.
        if not isinstance(exc, ConnectError | WriteInterrupted | CommandTimeout):
            journal._failed(step, exc)
        raise
    journal._done(step)
    if path is None:
        journal.live_done.append(op)


def parse_unfinished(text: str) -> list[Interrupted]:
    """Earlier runs from _OPEN's output, with the steps begun and never ended."""
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


def _digest(text: str) -> str | bool | None:
    """A digest as _DIGEST prints it; False when it is not one."""
    try:
        value = json.loads(text)
    except ValueError:
        return False
    if value is None or value == "":
        return value
    if isinstance(value, str) and runrecord.SHA256.fullmatch(value):
        return value
    return False


def _dumps(**fields: object) -> str:
    return json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=True)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
