"""The fix runs recorded on hosts: `python -m kit.runs list | show RUN | undo RUN`.

Hosts are named as for pytest (--hosts, --inventory with patterns, --known-hosts,
--ssh-identity-file, the sudo options). Exit status, in a run's codes (kit.cli.codes): 0
when every host did what was asked, 1 when a host had no such run, or had something left
alone, failed, or left to the operator, 10 when the only failures are hosts that could
not be reached (or whose key or credentials were refused), 4 on a usage error (a run id
no host has included).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TextIO

from kit import undo
from kit.cli import codes
from kit.errors import ConnectError, KitError
from kit.plugin import hostopts
from kit.plugin.hosts import HostContext
from kit.printable import printable
from kit.runner import hostlock, journal, runrecord
from kit.runner.journal import RecordError, RunRecord

OK, FAILED, USAGE = codes.COMPLIANT, codes.NON_COMPLIANT, codes.USAGE
UNREACHABLE = codes.UNREACHABLE
THREADS = 16


_Parser = codes.UsageParser


def build_parser(prog: str = "python -m kit.runs") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description=__doc__.splitlines()[0])
    hostopts.add_arguments(parser)
    parser.add_argument(
        "--runs-dir", default=journal.ROOT, help=f"where runs are kept (default {journal.ROOT})"
    )
    parser.add_argument("--lock-dir", default=hostlock.LOCK_DIR, help="the hosts' fix lock")
    parser.add_argument("--lock-timeout", type=float, default=60.0, metavar="SECONDS")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="the runs recorded on each host")
    show = sub.add_parser("show", help="a run's journal")
    show.add_argument("run", metavar="RUN")
    und = sub.add_parser("undo", help="put back what a run changed")
    und.add_argument("run", metavar="RUN")
    und.add_argument("--dry-run", action="store_true", help="show the plan, change nothing")
    und.add_argument("--force", action="store_true", help="also put back files changed since")
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, prog: str = "python -m kit.runs"
) -> int:
    out = out or sys.stdout
    args = build_parser(prog).parse_args(argv)
    try:
        registry, contexts = hostopts.hosts_of(args)
    except KitError as exc:
        _say(f"error: {exc}", file=sys.stderr)
        return USAGE
    try:
        return _command(args, contexts, out)
    finally:
        registry.close()


def _command(args: argparse.Namespace, contexts: list[HostContext], out: TextIO) -> int:
    records: dict[str, list[RunRecord]] = {}
    with ThreadPoolExecutor(min(THREADS, len(contexts))) as pool:
        read = list(pool.map(lambda c: _read(c, args.runs_dir), contexts))
    unreached = False
    status = OK
    for ctx, (runs, error) in zip(contexts, read, strict=True):
        if isinstance(error, ConnectError):
            unreached = True
            _say(f"{ctx.label}: {error}", file=out)
        elif error is not None:
            _say(f"{ctx.label}: {error}", file=out)
            status = FAILED
        else:
            records[ctx.label] = runs
    status = _hosts_status(args, contexts, records, out, status)
    # As a run's: 10 when the only failures are hosts that could not be reached.
    return UNREACHABLE if unreached and status == OK else status


def _hosts_status(
    args: argparse.Namespace,
    contexts: list[HostContext],
    records: dict[str, list[RunRecord]],
    out: TextIO,
    status: int,
) -> int:
    if args.command == "list":
        _list(records, out)
        return status
    wanted = args.run
    if not runrecord.valid_run_id(wanted):
        print(f"error: {wanted!r} is not a run id", file=sys.stderr)
        return USAGE
    having = {label: r for label, runs in records.items() for r in runs if r.run == wanted}
    if records and not having:
        known = sorted({r.run for runs in records.values() for r in runs})
        _say(
            f"error: no host has run {wanted}; the runs recorded are: {', '.join(known) or 'none'}",
            file=sys.stderr,
        )
        return USAGE
    for label in records:
        if label not in having:
            _say(f"{label}: run {wanted} is not recorded here (its directory is gone)", file=out)
            status = FAILED
    chosen = [c for c in contexts if c.label in having]
    if args.command == "show":
        for ctx in chosen:
            if not _show(ctx.label, having[ctx.label], out):
                status = FAILED
        return status
    for ctx in chosen:
        if not _undo(ctx, having[ctx.label], args, out):
            status = FAILED
    return status


def _read(ctx: HostContext, root: str) -> tuple[list[RunRecord], KitError | None]:
    try:
        return journal.read_runs(ctx.conn, root), None
    except KitError as exc:
        return [], exc


def _list(records: dict[str, list[RunRecord]], out: TextIO) -> None:
    rows = [("RUN", "STARTED", "HOST", "STEPS", "STATE")]
    for label, runs in records.items():
        for r in runs:
            state = "finished" if r.finished else "interrupted"
            if r.problem:
                state = "unreadable (show says why)"
            elif r.undoes:
                state += f" (undo of {r.undoes})"
            row = (r.run, r.started or "?", label, str(len(r.steps)), state)
            rows.append(tuple(printable(cell) for cell in row))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[4]]), file=out)


def _show(label: str, record: RunRecord, out: TextIO) -> bool:
    if record.problem:
        _say(f"{label}: refused: {record.problem}", file=out)
        return False
    state = "finished" if record.finished else "did not finish"
    _say(f"{label}: run {record.run}, started {record.started or '?'}, {state}", file=out)
    begun: dict[int, dict[str, object]] = {}
    for entry in record.entries:
        seq, what = entry.get("seq"), entry.get("state")
        if what == "begin" and isinstance(seq, int):
            begun[seq] = entry
            target = f" {entry['path']}" if entry.get("path") else ""
            check = f" [{entry['check']}]" if entry.get("check") else ""
            saved = f", saved as {entry['saved']}" if entry.get("saved") else ""
            before = _sha(entry.get("sha256_before")) if entry.get("path") else ""
            _say(
                f"  {seq:>3} {entry.get('time', '')} {entry.get('op')}{target}{check}{before}"
                f"{saved}",
                file=out,
            )
        elif what == "done" and isinstance(seq, int):
            after = _sha(entry.get("sha256_after")) if begun.get(seq, {}).get("path") else ""
            _say(f"      {seq} done{after}", file=out)
        elif what == "restored":
            _say(f"      {seq} put back (the fix failed)", file=out)
        elif what == "failed":
            _say(f"      {seq} failed: {entry.get('error', '')}", file=out)
        elif entry.get("event") not in ("start", "end"):
            rest = {k: v for k, v in entry.items() if k != "event"}
            _say(f"      {entry.get('event', 'note')}: {json.dumps(rest)}", file=out)
    ended = {e.get("seq") for e in record.entries if e.get("state") in _ENDS}
    for seq in sorted(set(begun) - ended):
        _say(f"      {seq} never finished: in flight when the run stopped", file=out)
    return True


_ENDS = ("done", "restored", "failed")


def _sha(value: object) -> str:
    if value == "":
        return " (not a regular file)"
    return f" sha256 {str(value)[:12]}" if value else " (absent)"


def _undo(ctx: HostContext, record: RunRecord, args: argparse.Namespace, out: TextIO) -> bool:
    label = ctx.label
    try:
        if args.dry_run:
            actions = undo.plan(ctx, record, args.runs_dir, args.force)
            _say(f"{label}: undo of {record.run} would (dry run, nothing changed):", file=out)
            for action in actions:
                _say(f"  {action}", file=out)
            return not any(a.kind in (undo.LEFT, undo.MANUAL) for a in actions)
        result = undo.undo(
            ctx,
            record.run,
            root=args.runs_dir,
            lock_dir=args.lock_dir,
            lock_timeout=args.lock_timeout,
            force=args.force,
        )
    except RecordError as exc:
        _say(f"{label}: undo of {record.run} refused, nothing changed: {exc}", file=out)
        return False
    except KitError as exc:
        _say(f"{label}: undo of {record.run} failed: {exc}", file=out)
        return False
    _say(f"{label}: undo of {record.run}, recorded as run {result.run_id}:", file=out)
    for line in result.done:
        _say(f"  {line}", file=out)
    for line in result.left:
        _say(f"  {line}", file=out)
    if not result.done and not result.left:
        _say("  nothing to put back", file=out)
    return result.ok


def _say(text: str, file: TextIO) -> None:
    """One line of what hosts and their records hold, control characters escaped."""
    print(printable(text), file=file)


if __name__ == "__main__":
    sys.exit(main())
