"""A run imports the libraries it uses, not every library hostkit could use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RECORD = """
import json, os, sys


def pytest_unconfigure(config):
    with open(os.environ["MODULES_LOG"], "w") as log:
        json.dump(sorted(sys.modules), log)
"""

CHECKS = """
from kit.catalog.check import check


@check("t.facts", "reads facts")
def test_facts(facts):
    assert facts is not None
"""

# paramiko: SSH only; jinja2: templates and the HTML report; yaml: profiles and inventories;
# hypothesis: property tests, of which this run has none.
NOT_USED = (
    "paramiko",
    "jinja2",
    "yaml",
    "hypothesis",
    "kit.reports.html_report",
    "kit.inventory",
    "kit.catalog.describe",
)


@pytest.fixture(autouse=True)
def this_kit(monkeypatch):
    """The subprocesses import the kit under test, wherever their working directory is."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def modules_of(pytester: pytest.Pytester, monkeypatch, *args: str) -> set[str]:
    log = pytester.path / "modules.json"
    monkeypatch.setenv("MODULES_LOG", str(log))
    pytester.makeconftest(RECORD)
    pytester.makepyfile(test_checks=CHECKS)
    result = pytester.runpytest_subprocess("-p", "no:xdist", "--hosts=local://", *args)
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    return set(json.loads(log.read_text()))


@pytest.mark.parametrize("args", [(), ("--co",)], ids=["run", "collect-only"])
def test_local_run_without_profile_loads_no_unused_library(pytester, monkeypatch, args):
    loaded = modules_of(pytester, monkeypatch, "-q", *args)
    assert "kit.plugin.hooks" in loaded
    assert not loaded & set(NOT_USED), sorted(loaded & set(NOT_USED))


def test_json_report_loads_its_writer_only(pytester, monkeypatch):
    loaded = modules_of(pytester, monkeypatch, "-q", f"--report-json={pytester.path / 'r.json'}")
    assert "kit.reports.json_report" in loaded
    assert "kit.reports.html_report" not in loaded and "jinja2" not in loaded
