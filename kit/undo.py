"""Undoing a recorded run on one host, from its journal and saved files.

Files go back byte for byte, with mode and owner, from the copies the run saved;
a file changed since the run (its sha256 is no longer what the run left) stays
as it is unless forced. A live change goes back where it has a safe inverse; any
other is a step for the operator. The undo is a run of its own, under the host's
fix lock and journaled like a fix, so it can be undone in turn.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from kit.errors import KitError
from kit.plugin.fixhost import new_run_id
from kit.plugin.hosts import HostContext
from kit.runner import journal, kernel, protect, services
from kit.runner.hostlock import LOCK_DIR, HostBusy, HostLock
from kit.runner.journal import Journal, RecordError, RunRecord

RESTORE, REMOVE, LIVE, NOTHING, LEFT, MANUAL = (
    "restore",
    "remove",
    "live",
    "nothing",
    "left alone",
    "manual",
)
_SYSCTL = re.compile(r"sysctl (?P<key>[^=\s]+)=(?P<new>.*) \(was (?P<old>.*)\)$")
_UNIT = re.compile(r"(?P<verb>enable|disable|start|stop|restart|reload|mask|unmask) (?P<unit>\S+)$")
_MODULE = re.compile(r"modprobe (?P<name>[A-Za-z0-9_-]+)$")
_INVERSE = {
    "enable": "disable",
    "disable": "enable",
    "start": "stop",
    "stop": "start",
    "mask": "unmask",
    "unmask": "mask",
}
_SAFE_UNIT = re.compile(r"^[A-Za-z0-9@._:\\-]+$")


@dataclass
class Action:
    kind: str
    what: str
    run: Callable[[], str] | None = None  # does it; returns what it did
    after: list[Action] = field(default_factory=list)  # runs only once one of these did
    ran: bool = False
    seq: int = 0  # the run's step it undoes

    def __str__(self) -> str:
        return self.what if self.kind in (RESTORE, REMOVE, LIVE) else f"{self.kind}: {self.what}"


@dataclass
class Result:
    host: str
    done: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # left alone, failed, or for the operator
    run_id: str | None = None

    @property
    def ok(self) -> bool:
        return not self.left


@dataclass
class _File:
    path: str
    seq: int  # the run's first step on it, whose saved copy holds it as it was
    saved: str  # relative to the run's directory
    before: str | None  # sha256; "" for not a regular file; None: it did not exist
    left: str | None  # what the run left, as before
    known: bool = True  # False: a step was cut short, so what the run left is unknown
    undone: bool = True  # every step put back by the failed fix's own rollback
    steps: list[tuple[int, str]] = field(default_factory=list)  # (seq, check) of each


def plan(ctx: HostContext, record: RunRecord, root: str, force: bool = False) -> list[Action]:
    """What undoing the run would do on ctx's host, newest step first; reads only.

    The record is checked first (RecordError: nothing is planned), and so is every saved
    copy a file would be restored from."""
    record.check()
    conn = ctx.conn
    files: dict[str, _File] = {}
    by_seq: dict[int, dict[str, object]] = {}
    ended: dict[int, str] = {}  # "done" or "failed"
    order: list[tuple[int, str, object]] = []
    for entry in record.entries:
        seq, state = entry.get("seq"), entry.get("state")
        if not isinstance(seq, int):
            continue
        if state == "begin":
            by_seq[seq] = entry
            path, saved = entry.get("path"), entry.get("saved")
            if isinstance(path, str) and isinstance(saved, str):
                if path not in files:
                    before = _digest(entry.get("sha256_before"))
                    files[path] = _File(path, seq, saved, before, before)
                    order.append((seq, "file", path))
                files[path].known = files[path].undone = False
                files[path].steps.append((seq, str(entry.get("check", ""))))
            else:
                order.append((seq, "step", seq))
        elif state in ("done", "failed"):
            ended[seq] = state
            path = by_seq[seq].get("path")
            if state == "done" and isinstance(path, str) and path in files:
                files[path].left = _digest(entry.get("sha256_after"))
                files[path].known = True
        elif state == "restored":
            path = by_seq[seq].get("path")
            if isinstance(path, str) and path in files:
                f = files[path]
                f.left, f.known = _digest(by_seq[seq].get("sha256_before")), True
                f.undone = f.left == f.before
    paths = list(files)
    current = dict(zip(paths, journal.digests(conn, paths), strict=True))
    run_dir = f"{root}/{record.run}"
    actions: list[Action] = []
    by_file: dict[str, Action] = {}
    for _seq, kind, key in sorted(order, key=lambda o: o[0], reverse=True):
        if kind == "file":
            assert isinstance(key, str)
            by_file[key] = _file_action(ctx, files[key], current[key], run_dir, force)
            actions.append(by_file[key])
        else:
            assert isinstance(key, int)
            actions.append(_step_action(ctx, by_seq[key], ended.get(key), force))
            actions[-1].seq = key
    _verify_copies(
        ctx, record, run_dir, [files[p] for p, a in by_file.items() if a.kind == RESTORE]
    )
    return _redo_after_restore(ctx, actions, by_seq, ended, files, by_file)


def _digest(value: object) -> str | None:
    """A digest from a checked record: a sha256, "" or None."""
    return value if isinstance(value, str) else None


# Each saved copy as it is on the host (never following a link): its sha256, or what else
# it is; "baddir" when the run's directory or its files/ is not a plain directory.
_COPIES = """d=$1; shift
[ ! -L "$d" ] && [ -d "$d" ] && [ ! -L "$d/files" ] && [ -d "$d/files" ] || { echo baddir; exit 0; }
for s; do
  f=$d/$s
  if [ -L "$f" ]; then echo link
  elif [ -f "$f" ]; then sha256sum < "$f" | cut -c1-64
  elif [ -e "$f" ]; then echo other
  else echo missing; fi
done
"""


def _verify_copies(ctx: HostContext, record: RunRecord, run_dir: str, wanted: list[_File]) -> None:
    """RecordError unless each saved copy is what its record says was there before."""
    if not wanted:
        return
    saved = [f.saved for f in wanted]
    res = ctx.conn.read("sh -c %s sh %s" + " %s" * len(saved), _COPIES, run_dir, *saved, sudo=True)
    found = res.stdout.split("\n")
    if res.ok and found[:1] == ["baddir"]:
        raise RecordError(f"run {record.run}: {run_dir} or its files/ is not a plain directory")
    if not res.ok or len(found) < len(saved):
        raise KitError(f"{ctx.conn.name}: cannot read the saved copies in {run_dir}")
    for f, kind in zip(wanted, found, strict=False):
        where = f"run {record.run}, step {f.seq} ({f.path}): the saved copy {f.saved}"
        if kind == "missing":
            raise RecordError(f"{where} is missing, and the file existed before the run")
        if f.before and kind != f.before:
            what = {"link": "a symbolic link", "other": "not a regular file"}.get(kind)
            raise RecordError(
                f"{where} is {what}" if what else f"{where} does not have the recorded sha256"
            )
        if f.before == "" and kind not in ("link", "other"):
            raise RecordError(f"{where} is a regular file; the record says there was none")


def _file_action(ctx: HostContext, f: _File, now: str | None, run_dir: str, force: bool) -> Action:
    conn = ctx.conn
    if f.undone:
        return Action(NOTHING, f"{f.path}: the run already put it back")
    if f.known and now == f.before and f.before != f.left:
        return Action(NOTHING, f"{f.path}: already as before the run")
    if not f.known:
        why = "the run was cut short while changing it, so what it left is unknown"
    elif now != f.left:
        why = f"changed since the run (sha256 {_short(now)}, the run left {_short(f.left)})"
    else:
        why = ""
    if why and not force:
        return Action(LEFT, f"{f.path}: {why}; --force puts it back")
    forced = f" ({why}; forced)" if why else ""
    # Only the record's word that nothing was there lets undo remove what is.
    created = f.before is None

    def run() -> str:
        protect.path(conn, f.path, "restore")
        with journal.file_step(conn, "restore", f.path):
            journal.put_back(conn, f.path, run_dir, None if created else f.saved, f.before)
        return f"{'removed' if created else 'restored'} {f.path}{forced}"

    if created:
        return Action(REMOVE, f"remove {f.path}, which the run created{forced}", run)
    return Action(RESTORE, f"restore {f.path} as before the run{forced}", run)


def _redo_after_restore(
    ctx: HostContext,
    actions: list[Action],
    by_seq: dict[int, dict[str, object]],
    ended: dict[int, str],
    files: dict[str, _File],
    by_file: dict[str, Action],
) -> list[Action]:
    """A unit the run restarted or reloaded after changing a file (containerd after its
    config.toml) is restarted or reloaded again once that file is put back, so that it
    runs what is on disk. Placed after the last of those files, run only if one was."""
    for action in list(actions):
        seq = action.seq
        entry = by_seq.get(seq, {})
        m = _UNIT.match(str(entry.get("op", "")))
        if not m or m["verb"] not in ("restart", "reload") or ended.get(seq) != "done":
            continue
        check = str(entry.get("check", ""))
        changed = [
            p
            for p, f in files.items()
            if by_file[p].kind in (RESTORE, REMOVE)
            and any(s < seq and c == check for s, c in f.steps)
        ]
        if not changed:
            continue
        verb, unit = m["verb"], m["unit"]
        redo = Action(
            LIVE,
            f"{verb} {unit} again, as the run did after changing {', '.join(changed)}",
            lambda verb=verb, unit=unit: _again(ctx, verb, unit),
            after=[by_file[p] for p in changed],
        )
        actions[actions.index(action)] = Action(
            NOTHING, f"{verb} {unit}: done again after putting back its files", seq=seq
        )
        last = max(actions.index(a) for a in redo.after)
        actions.insert(last + 1, redo)
    return actions


def _again(ctx: HostContext, verb: str, unit: str) -> str:
    """Restart or reload unit as the run did, under the same guards; not one that is not
    running now (the run restarted it because it was)."""
    conn = ctx.conn
    if not services.is_service_active(conn, ctx.facts, unit):
        return f"{unit} is not running: not {verb}ed"
    if verb == "restart":
        return services.restart_service(conn, ctx.facts, unit).summary
    protect.units(conn, [unit], "reload")
    with journal.live_step(conn, f"reload {unit}"):
        conn.run("systemctl reload -- %s", unit, sudo=True).check()
    return f"{unit} reloaded"


def _step_action(
    ctx: HostContext, entry: dict[str, object], ended: str | None, force: bool
) -> Action:
    op, path = str(entry.get("op", "")), entry.get("path")
    if isinstance(path, str):
        return Action(MANUAL, f"{op} {path}: its files were not saved; put them back by hand")
    if ended is None:
        return Action(MANUAL, f"{op}: the run was cut short during it; check it by hand")
    if ended == "failed":
        # Its command answered with a failure: what it would have changed, it did not.
        return Action(NOTHING, f"{op}: failed during the run, so there is nothing to put back")
    conn = ctx.conn
    if m := _SYSCTL.match(op):
        key, new, old = m["key"], m["new"], m["old"]
        live = kernel.get_sysctl(conn, key)
        if live != new and not force:
            return Action(LEFT, f"sysctl {key} is {live}, not {new} as the run left it")

        def back() -> str:
            change = kernel.set_sysctl(conn, None, key, old, persistent=False)
            return change.summary

        return Action(LIVE, f"sysctl {key} back to {old}", back)
    if m := _UNIT.match(op):
        verb, unit = m["verb"], m["unit"]
        if verb in ("restart", "reload"):
            return Action(NOTHING, f"{verb} {unit}: nothing to put back")
        inverse = _INVERSE[verb]
        if verb in ("mask", "unmask"):
            return Action(LIVE, f"{inverse} {unit}", lambda: _mask(ctx, inverse, unit))
        act = {
            "enable": services.enable_service,
            "disable": services.disable_service,
            "start": services.start_service,
            "stop": services.stop_service,
        }[inverse]
        return Action(LIVE, f"{inverse} {unit}", lambda: act(conn, ctx.facts, unit).summary)
    if m := _MODULE.match(op):
        return _module_action(ctx, m["name"])
    return Action(MANUAL, f"{op}: no safe inverse; undo it by hand")


def _mask(ctx: HostContext, verb: str, unit: str) -> str:
    if not _SAFE_UNIT.match(unit):
        raise KitError(f"{ctx.conn.name}: invalid unit name {unit!r}")
    if verb == "mask":
        protect.units(ctx.conn, [unit], "mask")
    with journal.live_step(ctx.conn, f"{verb} {unit}"):
        ctx.conn.run("systemctl %s %s", verb, unit, sudo=True).check()
    return f"{unit} {verb}ed"


def _module_action(ctx: HostContext, name: str) -> Action:
    """Unloaded only when nothing holds it: no other module, and no user (refcount 0)."""
    line = next(
        (ln.split() for ln in _proc_modules(ctx) if ln.split()[:1] == [name]),
        None,
    )
    if line is None:
        return Action(NOTHING, f"module {name}: not loaded")
    refs, holders = line[2] if len(line) > 2 else "?", line[3] if len(line) > 3 else "-"
    if refs != "0" or holders.strip(",") not in ("-", ""):
        users = holders.strip(",-") or f"{refs} users"
        return Action(MANUAL, f"module {name} is in use ({users}); unload it by hand")

    def unload() -> str:
        with journal.live_step(ctx.conn, f"modprobe -r {name}"):
            return kernel.unload_module(ctx.conn, None, name).summary

    return Action(LIVE, f"unload module {name}", unload)


def _proc_modules(ctx: HostContext) -> list[str]:
    res = ctx.conn.read("cat %s", kernel.PROC_MODULES)
    return res.stdout.splitlines() if res.ok else []


def _short(sha: str | None) -> str:
    return "absent" if sha is None else sha[:12] or "not a regular file"


def undo(
    ctx: HostContext,
    run: str,
    *,
    root: str = journal.ROOT,
    lock_dir: str = LOCK_DIR,
    lock_timeout: float = 60.0,
    force: bool = False,
    keep: int = journal.KEEP,
) -> Result:
    """Undo the run on ctx's host as a run of its own; what was done and what was not.

    The lock comes first and the record is read under it, so the plan is made from the
    record as the run left it; a run still holding the lock is in progress: an error."""
    conn = ctx.conn
    result = Result(conn.name, run_id=new_run_id())
    assert result.run_id is not None
    lock = HostLock(conn, result.run_id, lock_dir)
    _take(lock, run, lock_timeout)
    try:
        record = journal.read_run(conn, run, root)
        if record is None:
            raise KitError(f"{conn.name}: run {run} is not recorded here")
        actions = plan(ctx, record, root, force)
        # Keep every earlier run: pruning could drop the very run being undone. Leave
        # unfinished runs unmarked: the next --fix still reports them.
        record_of_undo = Journal(conn, result.run_id, root, keep=max(keep, 10**6))
        record_of_undo.open(notice=False)
        record_of_undo.note(event="undo", of=record.run)
        with record_of_undo.fix(f"undo {record.run}"):
            for action in actions:
                _do(action, result)
        record_of_undo.close()
    finally:
        lock.release()
    return result


def _take(lock: HostLock, run: str, timeout: float) -> None:
    """Take the host's fix lock; an error at once when the run being undone holds it."""
    for wait in (0.0, timeout):
        try:
            lock.acquire(wait)
            return
        except HostBusy as exc:
            if exc.holder == run:
                raise KitError(
                    f"{lock.conn.name}: run {run} is still in progress (it holds the fix "
                    "lock); undo it once it has ended"
                ) from None
            if wait == timeout:
                raise


def _do(action: Action, result: Result) -> None:
    if action.run is None:
        if action.kind != NOTHING:
            result.left.append(str(action))
        return
    if action.after and not any(a.ran for a in action.after):
        return  # none of its files was put back: nothing to run again for
    try:
        result.done.append(action.run())
        action.ran = True
    except KitError as exc:
        result.left.append(f"failed: {action.what}: {exc}")
