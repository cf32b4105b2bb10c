"""`hostkit report diff OLD NEW` over the JSON reports of two real runs of a small suite
on this machine, with changes planted in its files between them; and its one line for a
bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kit import report
from tests.plugin.fixruns import report_run

ROOT = Path(__file__).resolve().parents[2]

SUITE = """
import pytest
from kit.catalog.check import check

@check("t.setting", "the setting is in its file")
@pytest.mark.parametrize("name", ["alpha", "beta", "gamma"])
def test_setting(conn, name):
    assert conn.run("grep -qx %s %s", name, FILE).ok, f"{FILE} lacks {name}"
"""
EXTRA = """
@check("t.extra", "a check added between the runs")
def test_extra(conn):
    assert conn.run("test -e %s", FILE + ".extra").ok, "no extra file"
"""


def _run(pytester: pytest.Pytester, where: Path, suite: str, name: str) -> Path:
    pytester.makepyfile(test_checks=f"FILE = {str(where)!r}\n" + suite)
    result = report_run(pytester)
    assert result.ret in (0, 1), result.stdout.str()
    out = pytester.path / name
    (pytester.path / "run.json").rename(out)
    return out


@pytest.fixture
def runs(pytester: pytest.Pytester, tmp_path: Path) -> tuple[Path, Path]:
    """Two reports: alpha and gamma pass, beta fails; then beta passes, gamma fails and a
    new check appears failing."""
    where = tmp_path / "settings"
    where.write_text("alpha\ngamma\n")
    old = _run(pytester, where, SUITE, "old.json")
    where.write_text("alpha\nbeta\n")
    new = _run(pytester, where, SUITE + EXTRA, "new.json")
    return old, new


def test_two_real_runs_show_each_changed_cell_new_failures_first(runs, capsys):
    old, new = runs
    assert report.main(["diff", str(old), str(new)]) == 1
    out = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in out]
    assert rows == [
        ["failed", "local://", "t.extra", "-", "->", "failed"],
        ["failed", "local://", "t.setting[name=gamma]", "passed", "->", "failed"],
        ["fixed", "local://", "t.setting[name=beta]", "failed", "->", "passed"],
    ]


def test_the_reverse_diff_as_json_has_the_check_that_disappeared(runs, capsys):
    old, new = runs
    assert report.main(["diff", "--json", str(new), str(old)]) == 1
    loaded = json.loads(capsys.readouterr().out)
    assert loaded["worse"] is True
    assert {(c["kind"], c["check"]) for c in loaded["changes"]} == {
        ("fixed", "t.setting[name=gamma]"),
        ("failed", "t.setting[name=beta]"),
        ("disappeared", "t.extra"),
    }


def test_a_report_against_itself_is_no_change(runs, capsys):
    old, _ = runs
    assert report.main(["diff", str(old), str(old)]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "bad,why",
    [("{", "not JSON"), ('{"hosts": []}', "not a hostkit JSON report"), (None, "no such file")],
    ids=["not-json", "not-a-report", "missing"],
)
def test_a_bad_input_is_one_line_naming_it_exit_4(runs, tmp_path, bad, why):
    good = tmp_path / "good.json"
    good.write_bytes(runs[0].read_bytes())
    broken = tmp_path / "broken.json"
    if bad is not None:
        broken.write_text(bad)
    done = subprocess.run(
        [sys.executable, "-m", "kit.report", "diff", "good.json", "broken.json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith("error: broken.json: ") and len(done.stderr.splitlines()) == 1
    assert why in done.stderr
