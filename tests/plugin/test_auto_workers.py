"""`-n auto` on a hostkit run: the worker count it picks is what runs, and says so."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CHECKS = """
import os

def test_where(host):
    assert host.run("true").rc == 0
    print("WORKER=" + os.environ.get("PYTEST_XDIST_WORKER", "none"))
"""


@pytest.fixture(autouse=True)
def this_kit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    # When these tests run on an xdist worker, its name would reach the subprocess.
    monkeypatch.delenv("PYTEST_XDIST_WORKER", raising=False)
    monkeypatch.delenv("PYTEST_XDIST_WORKER_COUNT", raising=False)


def test_auto_on_a_small_machine_runs_serially_and_says_why(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_where=CHECKS)
    # This machine's affinity decides; on two cores or fewer no worker repays itself.
    if len(os.sched_getaffinity(0)) > 2:
        pytest.skip("needs a machine with at most two cores")
    result = pytester.runpytest_subprocess(
        "-n", "auto", "--hosts=local://", "-s", "-p", "no:cacheprovider"
    )
    out = result.stdout.str()
    assert result.ret == 0, out
    assert "-n auto: no workers (a serial run) for 1 host(s) on" in out
    assert "WORKER=none" in out and "created:" not in out  # no worker started


def test_the_users_own_auto_count_is_kept(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "2")
    pytester.makepyfile(test_where=CHECKS)
    result = pytester.runpytest_subprocess(
        "-n", "auto", "--hosts=local://", "-p", "no:cacheprovider"
    )
    out = result.stdout.str()
    assert result.ret == 0, out
    assert "created: 2/2 workers" in out and "-n auto:" not in out


def test_a_run_without_hosts_keeps_xdists_own_count(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project's own tests, with hostkit merely installed: one worker per core, as ever."""
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    result = pytester.runpytest_subprocess("-n", "auto", "-p", "no:cacheprovider")
    out = result.stdout.str()
    assert result.ret == 0, out
    # xdist's own count: one worker per core, however it counts them.
    assert re.search(r"created: (\d+)/\1 workers", out) and "-n auto:" not in out, out
