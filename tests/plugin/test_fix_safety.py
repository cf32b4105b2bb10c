"""--fix's safety in-process: disruption limits, undo of a failed fix, refusals, the host
lock, unfinished earlier runs, explicit targets. Fixes run on this machine, with their
record and lock in temporary directories."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.plugin.fixruns import fix_args
from tests.plugin.fixruns import fix_run as run
from tests.plugin.fixruns import junit as props

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.errors import FixRefused
from kit.catalog.remediation import remediation
from kit.runner import files, journal, system

def _read(conn, path):
    res = conn.run("cat -- %s", path)
    return res.stdout if res.ok else None

@remediation(strategy="disable", disruption="high", never="nothing")
def stop_everything(target, path):
    \"\"\"Stop the service that owns the file.\"\"\"
    return files.write_file(target.conn, path, "fixed\\n", dry_run=target.dry_run)

@check("t.high", "needs a disruptive fix", fix=stop_everything)
@pytest.mark.parametrize("path", [HIGH], ids=["high"])
def test_high(conn, path):
    assert _read(conn, path) == "fixed\\n", "not fixed yet"

@check("t.softhigh", "only a warning, with a disruptive fix", severity="warning",
       fix=stop_everything)
@pytest.mark.parametrize("path", [HIGH], ids=["softhigh"])
def test_softhigh(conn, path):
    assert _read(conn, path) == "fixed\\n", "not fixed yet"

@remediation(strategy="configure", disruption="low")
def two_steps(target, first, second):
    files.write_file(target.conn, first, "step one\\n", dry_run=target.dry_run)
    raise RuntimeError("second step broke")

@check("t.twostep", "two files", fix=two_steps)
@pytest.mark.parametrize("first,second", [(FIRST, SECOND)], ids=["twostep"])
def test_twostep(conn, first, second):
    assert _read(conn, first) == "wanted\\n"

@remediation(strategy="configure", disruption="low")
def leave_it(target, first):
    files.write_file(target.conn, first, "half done\\n", dry_run=target.dry_run)
    raise FixRefused(f"{first} is kept by hand: edit it there")

@check("t.byhand", "left to the operator", fix=leave_it)
@pytest.mark.parametrize("first", [FIRST], ids=["byhand"])
def test_byhand(conn, first):
    assert _read(conn, first) == "wanted\\n"

@remediation(strategy="configure", disruption="low")
def reboot_it(target):
    return system.reboot(target.conn, accept_disconnect=True, dry_run=target.dry_run)

@check("t.reboot", "wants a reboot", fix=reboot_it)
def test_reboot(conn):
    assert _read(conn, REBOOTED) == "yes\\n"

@remediation(strategy="configure", disruption="low", reboot=True)
def needs_reboot(target):
    return files.write_file(target.conn, KERNEL, "new\\n", dry_run=target.dry_run)

@check("t.kernel", "takes effect at boot", fix=needs_reboot)
def test_kernel(conn):
    assert _read(conn, KERNEL) == "new\\n"

@remediation(strategy="configure", disruption="low")
def slow(target):
    files.write_file(target.conn, SLOW, "begun\\n", dry_run=target.dry_run)
    with journal.live_step(target.conn, "wait for the network", dry_run=target.dry_run):
        target.conn.run("sleep 60")

@remediation(strategy="configure", disruption="low")
def set_password(target):
    return files.write_file(target.conn, SECRET, "password=s3cr3t-new\\n", dry_run=target.dry_run)

@check("t.secret", "the app has its password", fix=set_password)
def test_secret(conn):
    has_it = _read(conn, SECRET) == "password=s3cr3t-new\\n"
    assert has_it, "the password is not the one wanted"

@check("t.slow", "a fix that takes long", fix=slow)
def test_slow(conn):
    assert _read(conn, SLOW) == "done\\n"
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, tmp_path):
    paths = {
        n: tmp_path / n.lower()
        for n in ("HIGH", "FIRST", "SECOND", "REBOOTED", "KERNEL", "SLOW", "SECRET")
    }
    paths["FIRST"].write_bytes(b"original\n\xff kept as bytes\n")
    paths["SECRET"].write_text("password=s3cr3t-old\n")
    paths["SECRET"].chmod(0o600)
    header = "".join(f"{name} = {str(path)!r}\n" for name, path in paths.items())
    pytester.makepyfile(test_checks=header + CHECKS)
    return paths


def start_time(pid: int) -> str:
    """The process's start time, as /proc/PID/stat gives it (field 22)."""
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rpartition(") ")[2].split()[19]


def test_a_fix_above_the_limit_is_held_back_with_what_it_would_do(pytester, suite):
    result = run(pytester, "-k", "high and not soft")
    assert result.ret == 1
    assert not suite["HIGH"].exists()
    result.stdout.fnmatch_lines(
        [
            f"*fix needs --max-disruption=high: {suite['HIGH']}: would be created*",
            "*fixes held back*",
        ]
    )
    (case,) = props(pytester).values()
    assert case["outcome"] == ["failed"]
    assert case["held_back"][0].startswith("fix needs --max-disruption=high")


def test_the_dry_run_lists_a_held_back_fix_the_same_way(pytester, suite):
    result = run(pytester, "-k", "high and not soft", "--dry-run")
    assert result.ret == 1 and not suite["HIGH"].exists()
    result.stdout.fnmatch_lines(["*fix needs --max-disruption=high*"])


def test_raising_the_limit_lets_it_run(pytester, suite):
    result = run(pytester, "-k", "high and not soft", "--max-disruption=high")
    assert result.ret == 0
    assert suite["HIGH"].read_text() == "fixed\n"


def test_a_fix_failing_at_its_second_step_puts_the_first_file_back(pytester, suite):
    result = run(pytester, "-k", "twostep")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [f"*fix failed at write_file {suite['FIRST']}: second step broke; restored 1 file*"]
    )
    assert "Traceback" not in result.stdout.str()
    assert "During handling" not in result.stdout.str()
    assert suite["FIRST"].read_bytes() == b"original\n\xff kept as bytes\n"
    (case,) = props(pytester).values()
    assert case["outcome"] == ["error"]
    assert "RuntimeError: second step broke" in case["fix_error"][0]
    verbose = run(pytester, "-k", "twostep", "-v")
    assert "RuntimeError: second step broke" in verbose.stdout.str()


def test_a_refused_operation_fails_the_check_and_changes_nothing(pytester, suite):
    result = run(pytester, "-k", "reboot")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*fix refused: it would end the controller itself; host unchanged*"]
    )
    (case,) = props(pytester).values()
    assert case["outcome"] == ["failed"]
    planned = run(pytester, "-k", "reboot", "--dry-run")
    planned.stdout.fnmatch_lines(["*fix would be refused: it would end the controller itself*"])


def test_a_remediation_that_leaves_the_host_to_its_operator_fails_the_check(pytester, suite):
    # Not an error of the fix: the check keeps its verdict, with the reason, and whatever
    # the remediation wrote before declining is put back.
    result = run(pytester, "-k", "byhand")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [f"*fix refused: {suite['FIRST']} is kept by hand: edit it there; restored 1 file*"]
    )
    assert suite["FIRST"].read_bytes() == b"original\n\xff kept as bytes\n"
    (case,) = props(pytester).values()
    assert case["outcome"] == ["failed"]


def test_a_fix_that_needs_a_reboot_marks_the_host(pytester, suite):
    result = run(pytester, "-k", "kernel")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*reboot required*", "local://: *needs_reboot; reboot it to finish"]
    )
    (case,) = props(pytester).values()
    assert case["reboot_required"] == ["test_checks.needs_reboot"]


def test_a_busy_host_gets_its_checks_but_not_its_fixes(pytester, suite):
    lock = pytester.path / "lock"
    lock.mkdir()
    with subprocess.Popen(["sleep", "60"]) as other:
        try:
            start = start_time(other.pid)
            (lock / "fix.owner").write_text(f"run-other {other.pid} {start}\n")
            result = run(pytester, "-k", "kernel or high", "--fix-lock-timeout=1")
        finally:
            other.kill()
    assert result.ret == 1
    assert not suite["KERNEL"].exists()
    result.stdout.fnmatch_lines(["*fix held back: another hostkit run (run-other) is fixing*"])
    assert (lock / "fix.owner").read_text().startswith("run-other")


def test_a_killed_run_is_reported_by_the_next_one(pytester, suite):
    args = fix_args(pytester, "-k", "slow", "-p", "no:cacheprovider")
    killed = subprocess.Popen(
        ["python", "-m", "pytest", *args],
        cwd=pytester.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    runs = pytester.path / "runs"
    try:
        for _ in range(300):
            logs = list(runs.glob("*/journal"))
            if logs and "wait for the network" in logs[0].read_text():
                break
            subprocess.run(["sleep", "0.1"], check=True)
        else:
            pytest.fail("the fix never reached its slow step")
    finally:
        killed.kill()
        killed.wait()
    (log,) = runs.glob("*/journal")
    steps = [json.loads(line) for line in log.read_text().splitlines()]
    assert steps[-1]["op"] == "wait for the network" and steps[-1]["state"] == "begin"
    # The dead controller's lock is stale; the next run takes it and reports the record.
    after = run(pytester, "-k", "kernel")
    assert after.ret == 0
    after.stdout.fnmatch_lines(
        ["*earlier runs that did not finish*", "*did not finish (wait for the network for t.slow)*"]
    )
    again = run(pytester, "-k", "high", "--max-disruption=high")
    assert "did not finish" not in again.stdout.str()


def test_fix_needs_explicit_hosts(pytester, suite):
    result = pytester.runpytest_subprocess("--fix")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--fix needs explicit hosts; use --hosts=local:// to fix this machine*"]
    )
    assert (
        pytester.runpytest_subprocess("-k", "high").ret == 1
    )  # read-only runs keep the local default


def test_an_inventory_that_selects_no_host_is_an_error(pytester, suite):
    # kubespray's sample inventory ships with every host commented out.
    pytester.makefile(".ini", hosts="[kube_control_plane]\n# node1\n\n[kube_node]\n# node2\n")
    for args in (["--inventory=hosts.ini"], ["--inventory=hosts.ini", "--fix"]):
        result = pytester.runpytest_subprocess(*args)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(["*inventory hosts.ini selects no host*"])
    assert not suite["HIGH"].exists()


def test_a_planned_change_to_a_private_file_keeps_its_values_out_of_reports(pytester, suite):
    result = run(pytester, "-k", "secret", "--dry-run")
    assert result.ret == 1
    (case,) = props(pytester).values()
    (planned,) = case["planned"]
    assert "not world-readable" in planned and "sha256" in planned
    report = (pytester.path / "junit.xml").read_text() + result.stdout.str()
    assert "s3cr3t" not in report


def test_a_warning_whose_fix_is_held_back_says_so(pytester, suite):
    result = run(pytester, "-k", "softhigh")
    assert result.ret == 0
    (case,) = props(pytester).values()
    assert case["outcome"] == ["warning"]
    (message,) = case["message"]
    assert message.startswith("not fixed yet; fix needs --max-disruption=high")
