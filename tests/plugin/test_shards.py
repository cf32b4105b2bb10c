"""--shard K/N over seven hosts: each host in one shard, and the merged shard reports say
what the unsharded run says."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kit.plugin.shard import shard_of
from tests.plugin.fixruns import closed_ports

# This machine passes two items and fails one; the dead ports error, each on its own host.
CHECKS = """
import pytest

from kit.plugin.shard import shard_of

@pytest.mark.parametrize("n", range(3))
def test_item(host, n):
    assert n != 2, "the third item fails"
"""

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def this_kit(monkeypatch):
    """The subprocesses import the kit under test, wherever their working directory is."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def verdicts(path) -> dict[str, str]:
    found = {}
    for case in ET.parse(path).iter("testcase"):
        props = {p.get("name"): p.get("value") for p in case.iter("property")}
        found[case.get("name")] = props["outcome"]
    return found


def hosts_in(path) -> set[str]:
    return {p.get("value") for p in ET.parse(path).iter("property") if p.get("name") == "host"}


@pytest.fixture
def fleet(pytester):
    pytester.makepyfile(test_fleet=CHECKS)
    return ["local://", *(f"ssh://127.0.0.1:{p}" for p in closed_ports(6))]


def test_three_shards_cover_seven_hosts_once_and_merge_to_the_unsharded_verdicts(pytester, fleet):
    hosts = "--hosts=" + ",".join(fleet)
    whole = pytester.runpytest_subprocess(hosts, "--junitxml=whole.xml", "--report-json=whole.json")
    assert whole.ret == 1
    parts = []
    for k in range(3):
        out = f"shard{k}.xml"
        res = pytester.runpytest_subprocess(
            hosts, f"--shard={k}/3", f"--junitxml={out}", f"--report-json=shard{k}.json"
        )
        # 10: every host of the shard was unreachable.
        assert res.ret in (0, 1, 10), res.stdout.str()
        parts.append(pytester.path / out)
    seen = [hosts_in(p) for p in parts]
    # Under xdist each worker keeps the shard's hosts by the same hash.
    big = max(range(3), key=lambda k: len(seen[k]))
    res = pytester.runpytest_subprocess(hosts, f"--shard={big}/3", "-n", "2", "--junitxml=x.xml")
    assert verdicts(pytester.path / "x.xml") == verdicts(parts[big]) != {}
    assert set().union(*seen) == set(fleet)
    assert sum(len(s) for s in seen) == len(fleet)
    merged = pytester.path / "merged.xml"
    res = subprocess.run(
        [sys.executable, "-m", "kit.report", "merge", str(merged), *map(str, parts)],
        capture_output=True,
        text=True,
    )
    # The merged fleet exits as the unsharded run did: local:// failed a check.
    assert res.returncode == whole.ret == 1, res.stderr
    assert verdicts(merged) == verdicts(pytester.path / "whole.xml")
    assert len(verdicts(merged)) == 3 * len(fleet)
    assert "local://" in res.stdout and "passed" in res.stdout
    jsons = [str(pytester.path / f"shard{k}.json") for k in range(3)]
    res = subprocess.run(
        [sys.executable, "-m", "kit.report", "merge", str(pytester.path / "m.json"), *jsons],
        capture_output=True,
        text=True,
    )
    assert res.returncode == whole.ret, res.stderr

    def results(name: str) -> dict[tuple[str, str], str]:
        doc = json.loads((pytester.path / name).read_text())
        return {(r["host"], r["test"]): r["outcome"] for r in doc["results"]}

    assert results("m.json") == results("whole.json")
    assert len(results("m.json")) == 3 * len(fleet)


def test_overlapping_reports_are_refused(pytester, fleet):
    hosts = "--hosts=" + ",".join(fleet[:2])
    pytester.runpytest_subprocess(hosts, "--junitxml=a.xml")
    pytester.runpytest_subprocess("--hosts=local://", "--junitxml=b.xml")
    res = subprocess.run(
        [sys.executable, "-m", "kit.report", "merge", "out.xml", "a.xml", "b.xml"],
        capture_output=True,
        text=True,
        cwd=pytester.path,
    )
    # 4, a usage error: 1 is a merged fleet's verdict (non-compliant).
    assert res.returncode == 4
    assert "host local:// is in both a.xml and b.xml" in res.stderr
    assert not (pytester.path / "out.xml").exists()


def test_an_empty_shard_runs_nothing_and_succeeds(pytester):
    pytester.makepyfile(test_fleet=CHECKS)
    # One host lands in one of two shards; the other shard gets none.
    empty = 1 - shard_of("local://", 2)
    res = pytester.runpytest_subprocess("--hosts=local://", f"--shard={empty}/2")
    assert res.ret == 0
    res.stdout.fnmatch_lines(["*3 deselected*"])


@pytest.mark.parametrize("bad", ["3/2", "2/2", "x/2", "auto/2"])
def test_a_bad_shard_is_a_usage_error(pytester, bad, monkeypatch):
    monkeypatch.delenv("JOB_COMPLETION_INDEX", raising=False)
    pytester.makepyfile(test_fleet=CHECKS)
    res = pytester.runpytest_subprocess("--hosts=local://", f"--shard={bad}")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    errors = [ln for ln in res.stderr.lines if ln.startswith("ERROR")]
    assert len(errors) == 1 and "--shard" in errors[0], res.stderr.str()


def test_auto_takes_the_indexed_job_s_index(pytester, monkeypatch):
    from kit.plugin.shard import shard_of

    pytester.makepyfile(test_fleet=CHECKS)
    mine = shard_of("local://", 2)
    monkeypatch.setenv("JOB_COMPLETION_INDEX", str(mine))
    res = pytester.runpytest_subprocess("--hosts=local://", "--shard=auto/2")
    res.assert_outcomes(passed=2, failed=1)
