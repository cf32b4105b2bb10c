"""What a run does per check stays the same however many checks and hosts the run has."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.plugin.outcomes import EXIT_NON_COMPLIANT

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def this_kit(monkeypatch):
    """The subprocesses import the kit under test, wherever their working directory is."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


SCANS = """
import json, os

import pytest

SCANNED = []


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    tr = session.config.pluginmanager.get_plugin("terminalreporter")
    reports = tr.getreports

    def counted(name=""):
        found = reports(name)
        if name == "":
            SCANNED.append(len(found))
        return found

    tr.getreports = counted


def pytest_unconfigure(config):
    with open(os.environ["SCAN_LOG"], "w") as log:
        json.dump(SCANNED, log)
"""

CHECKS = """
import pytest
from kit.catalog.check import check


@pytest.fixture
def noisy():
    yield
    print("teardown of a failed check says this")


@check("t.bad", "always wrong")
@pytest.mark.parametrize("n", range(FAILS))
def test_bad(conn, noisy, n):
    assert False, "wrong"


@check("t.good", "always right")
@pytest.mark.parametrize("n", range(PASSES))
def test_good(conn, n):
    pass
"""


def scans(pytester, tmp_path, monkeypatch, fails: int, passes: int) -> tuple[list[int], str]:
    log = tmp_path / f"scans-{fails}-{passes}.json"
    monkeypatch.setenv("SCAN_LOG", str(log))
    pytester.makeconftest(SCANS)
    pytester.makepyfile(
        test_checks=CHECKS.replace("FAILS", str(fails)).replace("PASSES", str(passes))
    )
    result = pytester.runpytest_subprocess("-q", "--hosts=local://")
    assert result.ret == EXIT_NON_COMPLIANT, result.stdout.str()
    return json.loads(log.read_text()), result.stdout.str()


def test_failure_summary_reads_the_run_once_not_once_per_failure(pytester, tmp_path, monkeypatch):
    """Each failure's teardown output is looked up, not found by a scan of every report."""
    scanned, out = scans(pytester, tmp_path, monkeypatch, fails=6, passes=20)
    # One pass over the setup and teardown reports, whatever the number of failures.
    assert len(scanned) == 1, scanned
    assert out.count("teardown of a failed check says this") == 6, out
    assert "6 failed, 20 passed" in out
