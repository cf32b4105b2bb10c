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
from kit.runner.hostlock import LOCK_DIR, HostLock
from kit.runner.journal import Journal, RunRecord

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
    saved: str  # relative to the run's directory
    before: str
    left: str | None  # None: a step was cut short, so what the run left is unknown
    undone: bool = True  # every step put back by the failed fix's own rollback


def plan(ctx: HostContext, record: RunRecord, root: str, force: bool = False) -> list[Action]:
    """What undoing the run would do on ctx's host, newest step first; reads only."""
    conn = ctx.conn
    files: dict[str, _File] = {}
    by_seq: dict[int, dict[str, object]] = {}
    done: set[int] = set()
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
                    before = str(entry.get("sha256_before", ""))
                    files[path] = _File(path, saved, before, before)
                    order.append((seq, "file", path))
                files[path].left = None
                files[path].undone = False
            else:
                order.append((seq, "step", seq))
        elif state == "done" and seq in by_seq:
            done.add(seq)
            path = by_seq[seq].get("path")
            if isinstance(path, str) and path in files:
                files[path].left = str(entry.get("sha256_after", ""))
        elif state == "restored" and seq in by_seq:
            path = by_seq[seq].get("path")
            if isinstance(path, str) and path in files:
                files[path].left = str(by_seq[seq].get("sha256_before", ""))
                files[path].undone = files[path].left == files[path].before
    paths = list(files)
    current = dict(zip(paths, journal.digests(conn, paths), strict=True))
    run_dir = f"{root}/{record.run}"
    actions: list[Action] = []
    for _seq, kind, key in sorted(order, key=lambda o: o[0], reverse=True):
        if kind == "file":
            assert isinstance(key, str)
            actions.append(_file_action(ctx, files[key], current[key], run_dir, force))
        else:
            assert isinstance(key, int)
            actions.append(_step_action(ctx, by_seq[key], key in done, force))
    return actions


def _file_action(ctx: HostContext, f: _File, now: str, run_dir: str, force: bool) -> Action:
    conn = ctx.conn
    if f.undone:
        return Action(NOTHING, f"{f.path}: the run already put it back")
    if f.left is not None and now == f.before and f.before != f.left:
        return Action(NOTHING, f"{f.path}: already as before the run")
    saved = f"{run_dir}/{f.saved}"
    existed = journal.exists(conn, saved)
    if f.left is None:
        why = "the run was cut short while changing it, so what it left is unknown"
    elif now != f.left:
        why = f"changed since the run (sha256 {_short(now)}, the run left {_short(f.left)})"
    else:
        why = ""
    if why and not force:
        return Action(LEFT, f"{f.path}: {why}; --force puts it back")
    forced = f" ({why}; forced)" if why else ""

    def run() -> str:
        protect.path(conn, f.path, "restore")
        with journal.file_step(conn, "restore", f.path):
            journal.put_back(conn, f.path, saved if existed else None)
        return f"{'restored' if existed else 'removed'} {f.path}{forced}"

    if existed:
        return Action(RESTORE, f"restore {f.path} as before the run{forced}", run)
    return Action(REMOVE, f"remove {f.path}, which the run created{forced}", run)


def _step_action(ctx: HostContext, entry: dict[str, object], finished: bool, force: bool) -> Action:
    op, path = str(entry.get("op", "")), entry.get("path")
    if isinstance(path, str):
        return Action(MANUAL, f"{op} {path}: its files were not saved; put them back by hand")
    if not finished:
        return Action(MANUAL, f"{op}: the run was cut short during it; check it by hand")
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


def _short(sha: str) -> str:
    return sha[:12] if sha else "absent"


def undo(
    ctx: HostContext,
    record: RunRecord,
    *,
    root: str = journal.ROOT,
    lock_dir: str = LOCK_DIR,
    lock_timeout: float = 60.0,
    force: bool = False,
    keep: int = journal.KEEP,
) -> Result:
    """Undo the run on ctx's host as a run of its own; what was done and what was not."""
    conn = ctx.conn
    result = Result(conn.name, run_id=new_run_id())
    assert result.run_id is not None
    lock = HostLock(conn, result.run_id, lock_dir)
    lock.acquire(lock_timeout)
    try:
        actions = plan(ctx, record, root, force)
        # Keep every earlier run: pruning could drop the very run being undone.
        record_of_undo = Journal(conn, result.run_id, root, keep=max(keep, 10**6))
        record_of_undo.open()
        record_of_undo.note(event="undo", of=record.run)
        with record_of_undo.fix(f"undo {record.run}"):
            for action in actions:
                if action.run is None:
                    if action.kind != NOTHING:
                        result.left.append(str(action))
                    continue
                try:
                    result.done.append(action.run())
                except KitError as exc:
                    result.left.append(f"failed: {action.what}: {exc}")
        record_of_undo.close()
    finally:
        lock.release()
    return result
