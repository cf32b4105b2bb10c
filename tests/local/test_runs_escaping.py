"""`python -m kit.runs` shows a hostile record's text escaped: a record on a host is input
from a machine that may be compromised, and its escape sequences must not reach the
operator's terminal."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from kit import runs

# C0, DEL and C1 control characters, as a terminal would act on them.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # \n ends the CLI's own lines
TITLE = "\x1b]0;pwned\x07"  # sets the terminal's title
RUN = "20260101T000000Z-abcd"
HOSTILE_NAME = f"20260101T000000Z-{TITLE}"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A runs directory with a run named by an escape sequence, and a run with escape
    sequences in every field of its journal."""
    root = tmp_path / "runs"
    (root / HOSTILE_NAME / "files").mkdir(parents=True)
    (root / HOSTILE_NAME / "journal").write_text(json.dumps({"event": "start", "run": RUN}) + "\n")
    run = root / RUN
    (run / "files").mkdir(parents=True)
    entries = [
        {"event": "start", "run": RUN, "time": "\x1b[2J"},
        {
            "seq": 1,
            "state": "begin",
            "time": "t\x1b[1A",
            "check": "t.x\x9b31m",
            "op": "write_file\x1b[8m",
            "path": f"{tmp_path}/target\x1b[0m\r",
            "saved": "files/1\x1b[K",
            "sha256_before": "\x1b[5mabc",
        },
        {"seq": 1, "state": "done", "sha256_after": "\x07def"},
        {"seq": 2, "state": "begin", "op": "restart \x1b]8;;evil\x07unit"},
        {"event": "fix-failed\x1b[31m", "error": "boom\x1b[0m"},
    ]
    (run / "journal").write_text("".join(json.dumps(e) + "\n" for e in entries))
    return root


def kit_runs(root: Path, tmp_path: Path, *args: str) -> str:
    out = io.StringIO()
    runs.main(
        ["--hosts=local://", f"--runs-dir={root}", f"--lock-dir={tmp_path / 'lock'}", *args],
        out=out,
    )
    return out.getvalue()


def test_list_shows_hostile_runs_as_unreadable_without_their_escapes(hostile, tmp_path):
    shown = kit_runs(hostile, tmp_path, "list")
    assert not CONTROL.search(shown), shown
    assert "pwned" not in shown
    assert shown.count("unreadable") == 2, shown


def test_show_refuses_a_hostile_entry_and_names_it_escaped(hostile, tmp_path):
    shown = kit_runs(hostile, tmp_path, "show", RUN)
    assert not CONTROL.search(shown), shown
    assert "refused" in shown, shown
    # The record is refused at its first bad field, which the message names escaped.
    assert "\\x1b" in shown or "\\x9b" in shown or "\\x07" in shown, shown


def test_undo_plan_of_a_hostile_record_is_refused_escaped_and_changes_nothing(hostile, tmp_path):
    before = sorted(p.name for p in tmp_path.rglob("*"))
    shown = kit_runs(hostile, tmp_path, "undo", RUN, "--dry-run")
    assert not CONTROL.search(shown), shown
    assert "refused" in shown, shown
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
