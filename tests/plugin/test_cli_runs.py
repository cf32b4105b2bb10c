"""Runs through the `hostkit` command and what a run prints for the operator's tools:
the shipped catalog from any directory, JSON on standard output, a profile named where
there are no checks, and the id of a --fix run."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.plugin.fixruns import state_dirs

ROOT = Path(__file__).resolve().parents[2]

FIXABLE = """
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

@remediation(strategy="configure", disruption="low")
def write_marker(target):
    return files.write_file(target.conn, MARKER, "hello\\n", dry_run=target.dry_run)

@check("t.marker", "marker file holds hello", fix=write_marker)
def test_marker(conn):
    res = conn.run("cat -- %s", MARKER)
    assert res.ok and res.stdout == "hello\\n"
"""


@pytest.fixture(autouse=True)
def this_kit(monkeypatch):
    """The subprocesses import the kit under test, wherever their working directory is."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def hostkit(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.run(sys.executable, "-m", "kit.cli", *args, timeout=300)


def test_hostkit_check_runs_the_shipped_catalog_from_an_empty_directory(pytester):
    res = hostkit(
        pytester,
        "check",
        "--hosts=local://",
        "--check=k8s.swap.off",
        "--report-json=run.json",
        "-p",
        "no:cacheprovider",
    )
    assert res.ret in (0, 1), res.stdout.str() + res.stderr.str()
    doc = json.loads((pytester.path / "run.json").read_text())
    assert doc["mode"] == "check"
    assert {r["check"] for r in doc["results"]} == {"k8s.swap.off"}
    assert "hostkit profile kubernetes-node" in res.stdout.str()


def test_hostkit_plan_is_a_dry_run(pytester):
    res = hostkit(
        pytester,
        "plan",
        "--hosts=local://",
        "--check=k8s.swap.off",
        "--report-json=run.json",
        *state_dirs(pytester),
    )
    assert res.ret in (0, 1), res.stdout.str() + res.stderr.str()
    assert json.loads((pytester.path / "run.json").read_text())["mode"] == "dry-run"


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_report_json_dash_is_alone_on_standard_output(pytester, xdist):
    pytester.makepyfile(test_checks=FIXABLE.replace("MARKER", repr(str(pytester.path / "m"))))
    res = pytester.runpytest_subprocess("--hosts=local://", "--report-json=-", *xdist)
    assert res.ret == 1
    doc = json.loads(res.stdout.str())
    assert [r["outcome"] for r in doc["results"]] == ["failed"]
    # The terminal's lines go to standard error instead.
    err = res.stderr.str()
    assert "hostkit compliance" in err and "1 failed" in err


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_a_profile_named_where_there_are_no_checks_says_what_to_run(pytester, xdist):
    args = ["--hosts=local://", "--profile", "kubernetes-node", *xdist]
    res = pytester.runpytest_subprocess(*args)
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    out = res.stdout.str() + res.stderr.str()
    assert "no tests ran" not in out
    assert (
        f"no checks collected in {pytester.path} for profile kubernetes-node: run the "
        "shipped catalog with `hostkit check --profile kubernetes-node ...` "
        "(or `python -m pytest --pyargs hostkit_catalog.checks ...`)"
    ) in out


def test_an_empty_directory_without_a_profile_stays_pytests_no_tests(pytester):
    # Plain pytest, and testinfra's own runs, keep pytest's meaning of "nothing here".
    res = pytester.runpytest_subprocess("--hosts=local://")
    assert res.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_fix_run_prints_its_run_id_for_undo(pytester):
    pytester.makepyfile(test_checks=FIXABLE.replace("MARKER", repr(str(pytester.path / "m"))))
    res = pytester.runpytest_subprocess(
        "--hosts=local://", "--fix", "--report-json=run.json", *state_dirs(pytester)
    )
    assert res.ret == 0, res.stdout.str()
    run_id = json.loads((pytester.path / "run.json").read_text())["run_id"]
    assert (pytester.path / "runs" / run_id).is_dir()
    res.stdout.fnmatch_lines(
        [f"hostkit run {run_id}: undo it with: hostkit runs --hosts=local:// undo {run_id}"]
    )
    # The same line under -q, where pytest prints no header.
    (pytester.path / "m").unlink()
    quiet = pytester.runpytest_subprocess(
        "-q", "--hosts=local://", "--fix", "--report-json=run.json", *state_dirs(pytester)
    )
    run_id = json.loads((pytester.path / "run.json").read_text())["run_id"]
    quiet.stdout.fnmatch_lines([f"hostkit run {run_id}: undo it with: *undo {run_id}"])
