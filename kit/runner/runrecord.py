"""A run's record as read back from a host: untrusted input, bounded and checked.

The host may be compromised, so its record is parsed as hostile data: read up to a
bound, ASCII only (the kit writes it with every other character escaped), one JSON
object a line with no duplicated key, every field of the type the kit writes, every
path absolute and normalised, every saved copy `files/<its step>`, every step begun
once and ended at most once. Anything else is a RecordError naming the run and the
entry (its line); nothing is guessed. Only the last line may be cut short: that is
what an interrupted append leaves.
"""

from __future__ import annotations

import contextlib
import json
import posixpath
import re
from dataclasses import dataclass, field

from kit.errors import KitError

MAX_JOURNAL = 8 << 20  # bytes of one run's journal
MAX_LINE = 64 << 10  # bytes of one entry
MAX_ENTRIES = 100_000
MAX_STEP = 100_000  # the highest step number a run may have
MAX_PATH = 4096
MAX_TEXT = 1024  # an op, a check id, a time: the fields undo acts on
MAX_RUNS = 1000  # runs read from one host, newest first
RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SHA256 = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_TAB = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f]")  # a sysctl's old value has tabs
_STATES = ("begin", "done", "restored", "failed")
# The fields undo reads and acts on; every other string is text to show.
_ACTED_ON = frozenset(
    {"event", "run", "seq", "state", "time", "check", "op", "path", "saved", "of"}
    | {"sha256_before", "sha256_after"}
)


class RecordError(KitError):
    """A run's record is not one the kit wrote: refused, with the run and the entry."""


@dataclass(frozen=True)
class RunRecord:
    """One run's journal as read back from a host; problem says why it was refused."""

    host: str
    run: str
    finished: bool
    entries: list[dict[str, object]] = field(default_factory=list)
    problem: str | None = None

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

    def check(self) -> RunRecord:
        """self, or RecordError when it was refused."""
        if self.problem is not None:
            raise RecordError(self.problem)
        return self


def valid_run_id(run: str) -> bool:
    return RUN_ID.fullmatch(run) is not None and run not in (".", "..")


def valid_path(value: object) -> bool:
    """An absolute, normalised path without control characters: what the kit records."""
    return (
        isinstance(value, str)
        and 1 < len(value) <= MAX_PATH
        and value.startswith("/")
        and not value.startswith("//")
        and posixpath.normpath(value) == value
        and not _CONTROL.search(value)
        and _encodable(value)
    )


def parse(host: str, run: str, finished: bool, data: bytes) -> RunRecord:
    """The record of run from its journal's bytes; RecordError when it is not one the kit
    wrote."""
    if not valid_run_id(run):
        raise RecordError(f"run {run!r}: not a run id")
    if len(data) > MAX_JOURNAL:
        raise RecordError(f"run {run}: its journal is larger than {MAX_JOURNAL} bytes")
    lines = data.split(b"\n")
    cut_short = lines.pop()  # b"" after a final newline; else an append cut short
    if len(lines) > MAX_ENTRIES:
        raise RecordError(f"run {run}: more than {MAX_ENTRIES} entries")
    entries = [_entry(run, n, line) for n, line in enumerate(lines, 1)]
    if cut_short:
        with contextlib.suppress(RecordError):  # the interruption itself: no entry
            entries.append(_entry(run, len(lines) + 1, cut_short))
    _check_steps(run, entries)
    return RunRecord(host, run, finished, entries)


def _entry(run: str, n: int, line: bytes) -> dict[str, object]:
    where = f"run {run}, entry {n}"
    if len(line) > MAX_LINE:
        raise RecordError(f"{where}: longer than {MAX_LINE} bytes")
    if not line.isascii() or re.search(rb"[\x00-\x1f\x7f]", line):
        raise RecordError(f"{where}: holds bytes the kit never writes (not printable ASCII)")
    try:
        entry = json.loads(line, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise RecordError(f"{where}: not a JSON entry ({str(exc)[:80]})") from None
    if not isinstance(entry, dict):
        raise RecordError(f"{where}: not a JSON object")
    for key, value in entry.items():
        if not (value is None or isinstance(value, str | int | bool)):
            raise RecordError(f"{where}: {key!r} is a {type(value).__name__}, not a value")
        if isinstance(value, str) and key not in _ACTED_ON and not _encodable(value):
            # Free text (an error, a note) is only shown: a lone surrogate becomes "?".
            entry[key] = value.encode("utf-8", "replace").decode()
    if "event" in entry:
        _event(where, run, n, entry)
    else:
        _step(where, entry)
    return entry


def _event(where: str, run: str, n: int, entry: dict[str, object]) -> None:
    event = entry["event"]
    if not isinstance(event, str) or not re.fullmatch(r"[a-z][a-z0-9_-]{0,63}", event):
        raise RecordError(f"{where}: event {event!r} is not an event name")
    if "seq" in entry or "state" in entry:
        raise RecordError(f"{where}: an event with a step number")
    # Another name of the same host in the same run (an alias) opens it again: a later
    # start of the same run is that, never one of another run.
    if n == 1 and event != "start":
        raise RecordError(f"{where}: a run's record starts with its start")
    if event == "start" and entry.get("run") != run:
        raise RecordError(f"{where}: the start names another run ({entry.get('run')!r})")


def _step(where: str, entry: dict[str, object]) -> None:
    seq, state = entry.get("seq"), entry.get("state")
    if type(seq) is not int or not 1 <= seq <= MAX_STEP:
        raise RecordError(f"{where}: step number {seq!r} is not one from 1 to {MAX_STEP}")
    if state not in _STATES:
        raise RecordError(f"{where}: step {seq} has state {state!r}")
    where = f"{where} (step {seq})"
    for key in ("op", "check", "time"):
        value = entry.get(key)
        if value is not None and not _text(value):
            raise RecordError(f"{where}: {key} {_short(value)} is not a line of text")
    if state == "begin":
        if not isinstance(entry.get("op"), str):
            raise RecordError(f"{where}: a step begun without its op")
        path, saved = entry.get("path"), entry.get("saved")
        if path is not None and not valid_path(path):
            raise RecordError(f"{where}: path {_short(path)} is not absolute and normalised")
        if saved is not None and (path is None or saved != f"files/{seq}"):
            raise RecordError(f"{where}: saved copy {_short(saved)} is not files/{seq}")
        if saved is not None and "sha256_before" not in entry:
            raise RecordError(f"{where}: a saved file without its sha256_before")
    for key in ("sha256_before", "sha256_after"):
        value = entry.get(key)
        if value not in (None, "") and not (isinstance(value, str) and SHA256.fullmatch(value)):
            raise RecordError(f"{where}: {key} {_short(value)} is not a sha256")


def _check_steps(run: str, entries: list[dict[str, object]]) -> None:
    """Each step begun once, before its end; ended (done or failed) and put back at most once."""
    ended: dict[int, set[str]] = {}
    for n, entry in enumerate(entries, 1):
        seq, state = entry.get("seq"), entry.get("state")
        if not isinstance(seq, int):
            continue
        where = f"run {run}, entry {n} (step {seq})"
        if state == "begin":
            if seq in ended:
                raise RecordError(f"{where}: the step is begun twice")
            ended[seq] = set()
            continue
        seen = ended.get(seq)
        if seen is None:
            raise RecordError(f"{where}: {state} of a step never begun")
        kind = "restored" if state == "restored" else "end"
        if kind in seen:
            raise RecordError(f"{where}: the step is {state} twice")
        seen.add(kind)


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found: dict[str, object] = {}
    for key, value in pairs:
        if key in found:
            raise ValueError(f"the key {key!r} appears twice")
        found[key] = value
    return found


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def _text(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= MAX_TEXT
        and not _CONTROL_BUT_TAB.search(value)
        and _encodable(value)
    )


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
