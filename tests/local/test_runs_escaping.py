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
RUN = f"20260101T000000Z-{TITLE}"


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    """A runs directory whose one run has escape sequences in its name and every field."""
    root = tmp_path / "runs"
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


def test_list_escapes_the_run_name_and_time(hostile, tmp_path):
    shown = kit_runs(hostile, tmp_path, "list")
    assert not CONTROL.search(shown), shown
    assert "20260101T000000Z-\\x1b]0;pwned\\x07" in shown
    assert "\\x1b[2J" in shown


def test_show_escapes_every_field_of_every_entry(hostile, tmp_path):
    shown = kit_runs(hostile, tmp_path, "show", RUN)
    assert not CONTROL.search(shown), shown
    for escaped in (
        "\\x1b]0;pwned\\x07",
        "write_file\\x1b[8m",
        "target\\x1b[0m\\x0d",
        "t.x\\x9b31m",
        "files/1\\x1b[K",
        "restart \\x1b]8;;evil\\x07unit",
        "fix-failed\\x1b[31m",
    ):
        assert escaped in shown, escaped


def test_undo_plan_escapes_the_paths_it_names(hostile, tmp_path):
    shown = kit_runs(hostile, tmp_path, "undo", RUN, "--dry-run")
    assert not CONTROL.search(shown), shown
    assert "\\x1b" in shown
