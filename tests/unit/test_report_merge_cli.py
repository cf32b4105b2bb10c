"""`hostkit report merge` / `python -m kit.report merge`: the merged report's format is its
OUT suffix (JUnit, JSON or HTML), and the exit status is the fleet's verdict, as a run's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit import report
from kit.cli import codes
from kit.reports import json_report
from kit.reports.model import Check, Host, Result, Run, finish


def shard(path: Path, host: str, *outcomes: str, unreachable: str | None = None) -> Path:
    results = [
        Result(host, f"t.check{n}", f"test_t.py::test_{n}[{host}]", outcome, message=outcome)
        for n, outcome in enumerate(outcomes)
    ]
    run = Run("2026-01-01T00:00:00+00:00", "2026-01-01T00:00:01+00:00", 1.0, "check")
    run.hosts = [Host(host, "kubernetes-node", unreachable)]
    run.results = results
    run.checks = [Check(r.check, f"check {r.check}") for r in results]
    path.write_text(json_report.render(finish(run)))
    return path


@pytest.mark.parametrize(
    ("second", "verdict"),
    [
        (("passed", "passed"), codes.COMPLIANT),
        (("passed", "failed"), codes.NON_COMPLIANT),
        (("passed", "error"), codes.NON_COMPLIANT),
        (("passed", "fixed"), codes.COMPLIANT),
    ],
)
def test_merge_exits_with_the_fleets_verdict(tmp_path, second, verdict, capsys):
    a = shard(tmp_path / "a.json", "ssh://a", "passed", "passed")
    b = shard(tmp_path / "b.json", "ssh://b", *second)
    assert report.main(["merge", str(tmp_path / "out.json"), str(a), str(b)]) == verdict
    assert "ssh://b" in capsys.readouterr().out


def test_a_fleet_whose_only_failures_are_unreachable_hosts_exits_10(tmp_path):
    a = shard(tmp_path / "a.json", "ssh://a", "passed")
    b = shard(tmp_path / "b.json", "ssh://b", "unreachable", unreachable="timed out")
    assert report.main(["merge", str(tmp_path / "out.json"), str(a), str(b)]) == 10


def test_junit_merge_exits_with_the_fleets_verdict(tmp_path):
    case = (
        '<testcase classname="t" name="test_{n}"><properties>'
        '<property name="host" value="{host}"/><property name="outcome" value="{outcome}"/>'
        "</properties></testcase>"
    )
    for name, host, outcome in (("a", "ssh://a", "passed"), ("b", "ssh://b", "failed")):
        cases = case.format(n=name, host=host, outcome=outcome)
        (tmp_path / f"{name}.xml").write_text(f'<testsuite tests="1">{cases}</testsuite>')
    out, a, b = (str(tmp_path / n) for n in ("out.xml", "a.xml", "b.xml"))
    assert report.main(["merge", out, a, b]) == codes.NON_COMPLIANT


def test_merge_writes_html_from_json_shards(tmp_path):
    a = shard(tmp_path / "a.json", "ssh://a", "passed", "failed")
    b = shard(tmp_path / "b.json", "ssh://b", "passed", "passed")
    out = tmp_path / "fleet.html"
    assert report.main(["merge", str(out), str(a), str(b)]) == codes.NON_COMPLIANT
    page = out.read_text()
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "ssh://a" in page and "ssh://b" in page and "t.check1" in page


def test_html_from_junit_shards_is_refused_naming_what_to_give(tmp_path, capsys):
    (tmp_path / "a.xml").write_text('<testsuite tests="0"/>')
    out = tmp_path / "fleet.html"
    assert report.main(["merge", str(out), str(tmp_path / "a.xml")]) == codes.USAGE
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "--report-json" in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_overlapping_shards_are_a_usage_error_not_a_verdict(tmp_path, capsys):
    a = shard(tmp_path / "a.json", "ssh://a", "passed")
    b = shard(tmp_path / "b.json", "ssh://a", "passed")
    assert report.main(["merge", str(tmp_path / "out.json"), str(a), str(b)]) == codes.USAGE
    assert "in both" in capsys.readouterr().err


def test_the_merged_json_keeps_its_shape(tmp_path):
    a = shard(tmp_path / "a.json", "ssh://a", "passed")
    b = shard(tmp_path / "b.json", "ssh://b", "failed")
    report.main(["merge", str(tmp_path / "out.json"), str(a), str(b)])
    doc = json.loads((tmp_path / "out.json").read_text())
    assert {h["name"]: h["verdict"] for h in doc["hosts"]} == {
        "ssh://a": "compliant",
        "ssh://b": "non-compliant",
    }
