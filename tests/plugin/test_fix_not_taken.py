"""A fix that does not take: its change is made, yet the check still fails (a unit whose
condition fails in a container is "started" on every run and never runs). The outcome says
why, in the re-check's own words; the next --fix says the fix did not take instead of
making the same change again, and writes no record for it; --fix-retry makes it again."""

from __future__ import annotations

import os

import pytest

from tests.plugin.fixruns import fix_run, junit

CHECKS = r"""
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import journal
from kit.runner.change import Change

REASON = "timesync is inactive: ConditionVirtualization=!container was not met"

@remediation(strategy="enable", disruption="low")
def start_timesync(target, unit):
    # Like `systemctl start` of a unit whose condition fails: it succeeds, and the unit
    # stays inactive, so the change is made again on every run. STARTS counts the runs.
    with journal.live_step(target.conn, f"start {unit}", dry_run=target.dry_run):
        target.conn.run("sh -c %s", f"echo {unit} >> {STARTS}")
    if unit == "works" or target.conn.run("test -e %s", CAUSE_GONE).ok:
        target.conn.run("touch -- %s", f"{ACTIVE}-{unit}")
    return Change.made(f"started {unit}")

@check("t.timesync", "time sync runs", fix=start_timesync)
@pytest.mark.parametrize("unit", ["stuck", "works"])
def test_timesync(conn, unit):
    assert conn.run("test -e %s", f"{ACTIVE}-{unit}").ok, REASON
"""
REASON = "timesync is inactive: ConditionVirtualization=!container was not met"


@pytest.fixture
def suite(pytester, tmp_path):
    starts, active, gone = tmp_path / "starts", tmp_path / "active", tmp_path / "cause-gone"
    header = f"STARTS = {str(starts)!r}\nACTIVE = {str(active)!r}\nCAUSE_GONE = {str(gone)!r}\n"
    pytester.makepyfile(test_checks=header + CHECKS)
    return starts, active, gone


def runs_kept(pytester) -> list[str]:
    return sorted(os.listdir(pytester.path / "runs"))


def test_the_outcome_says_why_the_check_still_fails(pytester, suite):
    result = fix_run(pytester, "-k", "stuck")
    assert result.ret == 1
    result.stdout.fnmatch_lines([f"t.timesync: still failing after remediation: {REASON}"])
    (props,) = junit(pytester).values()
    assert props["outcome"] == ["failed"]


def test_a_fix_that_did_not_take_is_not_repeated_and_leaves_no_record(pytester, suite):
    starts, active, _ = suite
    first = fix_run(pytester)
    assert first.ret == 1
    assert starts.read_text().split() == ["stuck", "works"]
    (run,) = runs_kept(pytester)

    os.unlink(f"{active}-works")  # drifted back: its fix took, so it is made again
    second = fix_run(pytester, "-k", "works")
    assert second.ret == 0
    assert starts.read_text().split() == ["stuck", "works", "works"]
    assert len(runs_kept(pytester)) == 2

    third = fix_run(pytester, "-k", "stuck")
    assert third.ret == 1
    assert starts.read_text().split() == ["stuck", "works", "works"]  # not made again
    said = f"fix not repeated: it was made in run {run} and the check still failed: {REASON}"
    third.stdout.fnmatch_lines([f"*{said}*"])
    assert "fixes held back" in third.stdout.str()
    assert len(runs_kept(pytester)) == 2  # no record for a run that changed nothing

    retried = fix_run(pytester, "-k", "stuck", "--fix-retry")
    assert retried.ret == 1
    assert starts.read_text().split() == ["stuck", "works", "works", "stuck"]
    assert len(runs_kept(pytester)) == 3


def test_a_retry_that_takes_lets_the_fix_run_again_later(pytester, suite):
    starts, active, gone = suite
    assert fix_run(pytester, "-k", "stuck").ret == 1
    gone.touch()  # the operator removed the cause
    retried = fix_run(pytester, "-k", "stuck", "--fix-retry")
    assert retried.ret == 0, retried.stdout.str()
    os.unlink(f"{active}-stuck")  # drifted back later
    again = fix_run(pytester, "-k", "stuck")
    assert again.ret == 0, again.stdout.str()
    assert starts.read_text().split() == ["stuck", "stuck", "stuck"]
