"""Which fixes did not take on a host's earlier runs: read back from its run records.

When a fix ran and its check still failed, the fix flow notes it in the run's journal
(`{"event": "recheck", "check", "params", "passed": false, "error"}`); when a later run
makes that fix again and it takes, it notes `"passed": true`. The last note for a check
and its parameters is the one that counts. This module only reads the notes back;
kit.runner.journal owns the record and its writing.

A record on a host is input from a machine that may be compromised: the output read is
bounded, and every field is checked for its type and cut to length.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass

from kit.connection import Connection, quote
from kit.errors import KitError

EVENT = "recheck"
_SEP = "\x1e"
# Each run's journal lines that name a check, oldest run first (run ids sort by time).
_READ = """r={root}
[ -d "$r" ] || exit 0
for d in "$r"/*/; do
  d=${{d%/}}; j="$d/journal"
  [ -f "$j" ] && [ ! -L "$j" ] || continue
  printf '{sep}%s\\n' "${{d##*/}}"
  grep -F '"check": ' -- "$j" | tail -n 2000 | cut -c1-4096
done
"""


@dataclass(frozen=True)
class NotTaken:
    """A fix of an earlier run after which its check still failed."""

    run: str
    error: str


def params_key(host: str, params: Mapping[str, object]) -> str:
    """A short stable key for one fix: the host as the run names it (one machine may hold
    the records of several names, a test fleet's for one) and the check's parameters (one
    check id covers many of them)."""
    text = json.dumps([host, params], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def read(conn: Connection, root: str) -> dict[tuple[str, str], NotTaken]:
    """The fixes, by (check id, params key), that did not take on the last run that made them."""
    res = conn.read("sh -c %s", _READ.format(root=quote(root), sep=_SEP), sudo=True)
    if not res.ok:
        raise KitError(f"{conn.name}: cannot read the runs in {root}")
    return parse(res.stdout)


def parse(text: str) -> dict[tuple[str, str], NotTaken]:
    notes: dict[tuple[str, str], NotTaken] = {}
    for block in text.split(_SEP)[1:]:
        run, _, body = block.partition("\n")
        for line in body.splitlines():
            entry = _entry(line)
            if entry is None:
                continue
            key = (str(entry["check"]), str(entry["params"]))
            if entry.get("passed") is False:
                error = entry.get("error")
                notes[key] = NotTaken(
                    run.strip()[:200], error[:300] if isinstance(error, str) else ""
                )
            else:
                notes.pop(key, None)
    return notes


def _entry(line: str) -> dict[str, object] | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None  # a line cut short, or not JSON at all
    if not isinstance(entry, dict) or entry.get("event") != EVENT:
        return None
    if not isinstance(entry.get("check"), str) or not isinstance(entry.get("params"), str):
        return None
    return entry
