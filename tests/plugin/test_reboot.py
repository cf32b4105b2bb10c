"""--reboot's bad input, refused at start-up in one line, and its holding of reports.

A real reboot needs a disposable host (tests/hosts/test_reboot.py); here, hosts that do not
answer show that holding each wave's reports until its end reports every check once.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.plugin.outcomes import EXIT_UNREACHABLE
from tests.plugin.fixruns import closed_ports, junit, state_dirs
from tests.plugin.test_startup import refused

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def this_kit(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def test_reboot_needs_fix(pytester):
    line = refused(pytester, "--hosts=ssh://127.0.0.1:1", "--reboot")
    assert line == "--reboot reboots hosts whose fixes need it: use it with --fix"


def test_reboot_refuses_workers(pytester):
    line = refused(pytester, "--hosts=ssh://127.0.0.1:1", "--fix", "--reboot", "-n", "2")
    assert line == "--reboot holds each host's results until its reboot and re-check; drop -n"


def test_reboot_refuses_this_machine(pytester):
    line = refused(pytester, "--hosts=local://", "--fix", "--reboot", *state_dirs(pytester))
    assert line == "--reboot cannot reboot local://: it is the machine running the checks"


@pytest.mark.parametrize("value", ["0", "-5"])
def test_reboot_timeout_over_zero(pytester, value):
    line = refused(pytester, "--hosts=ssh://127.0.0.1:1", f"--reboot-timeout={value}")
    assert line == f"--reboot-timeout {value}: give a number of seconds over 0"


CHECKS = """
from kit.catalog.check import check

@check("t.one", "first")
def test_one(conn):
    assert conn.run("true").ok

@check("t.two", "second")
def test_two(conn):
    assert conn.run("true").ok
"""


def test_held_reports_are_each_reported_once(pytester):
    """Every check of every host reaches the terminal, JUnit and the tally once."""
    pytester.makepyfile(test_checks=CHECKS)
    hosts = ",".join(f"ssh://127.0.0.1:{p}" for p in closed_ports(3))
    result = pytester.runpytest_subprocess(
        f"--hosts={hosts}",
        "--fix",
        "--reboot",
        "--fix-batch=1",
        "--junitxml=junit.xml",
        "-p",
        "no:randomly",
        *state_dirs(pytester),
    )
    assert result.ret == EXIT_UNREACHABLE, result.stdout.str()
    result.assert_outcomes(errors=6)
    cases = junit(pytester)
    assert len(cases) == 6
    assert {props["outcome"][0] for props in cases.values()} == {"error"}
    assert "reboots" not in result.stdout.str()  # no fix ran, so no host was rebooted


def test_reboot_refuses_an_entered_process(pytester):
    # Refused before any connection: pid 1 need not be enterable here.
    line = refused(pytester, "--hosts=nsenter://", "--fix", "--reboot", *state_dirs(pytester))
    assert line == (
        "--reboot cannot reboot nsenter://1: a reboot ends the process it enters "
        "(on a node, the pod running the checks)"
    )
