"""--waivers end to end on this machine: a waived failure is reported as waived with its
justification in the terminal, JUnit, JSON and HTML and fails nothing; --fix leaves it
alone; an expired waiver is announced and not applied; a bad file is one usage error."""

from __future__ import annotations

import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from kit.plugin.outcomes import EXIT_USAGE
from kit.reports.json_report import SCHEMA
from tests.plugin.fixruns import report_run as run

ROOT = Path(__file__).resolve().parents[2]

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

@remediation(strategy="configure", disruption="low")
def write_marker(target, path, content):
    return files.write_file(target.conn, path, content, dry_run=target.dry_run)

@check("t.ok", "always holds")
def test_ok(conn):
    assert conn.run("true").ok

@check("t.marker", "marker file holds its content", fix=write_marker)
@pytest.mark.parametrize("path,content", [(MARKER, "hello\\n")], ids=["marker"])
def test_marker(conn, path, content):
    res = conn.run("cat -- %s", path)
    assert res.ok and res.stdout == content, "marker lacks hello"

@check("t.boom", "raises")
def test_boom(conn):
    raise RuntimeError("boom")

@check("t.soft", "only a warning", severity="warning")
def test_soft(conn):
    assert False, "soft file missing"
"""

WAIVE_ALL = """
- check: t.marker
  hosts: [local://]
  justification: the marker is written by the vendor's agent
- check: t.boom
  justification: boom is a known bug of the probe
- check: t.so*
  hosts: ["loc*"]
  justification: soft is accepted on this host
- check: t.ok
  justification: passes anyway
"""


@pytest.fixture(autouse=True)
def this_checkout(monkeypatch):
    """The runs import the kit beside these tests, whichever copy is installed."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )


@pytest.fixture
def marker(pytester: pytest.Pytester, tmp_path: Path) -> Path:
    path = tmp_path / "marker"
    path.write_text("old\n")
    pytester.makepyfile(test_checks=f"MARKER = {str(path)!r}\n" + CHECKS)
    return path


def waivers(pytester: pytest.Pytester, text: str) -> str:
    (pytester.path / "waivers.yaml").write_text(text)
    return "--waivers=waivers.yaml"


def junit(pytester: pytest.Pytester) -> dict[str, ET.Element]:
    return {c.get("name"): c for c in ET.parse(pytester.path / "junit.xml").iter("testcase")}


def props(case: ET.Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in case.iter("property")}


def results(pytester: pytest.Pytester) -> tuple[dict, dict[str, dict]]:
    doc = json.loads((pytester.path / "run.json").read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    return doc, {r["check"]: r for r in doc["results"]}


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_waived_failures_exit_0_and_show_waived_with_their_justification(pytester, marker, xdist):
    result = run(pytester, waivers(pytester, WAIVE_ALL), *(["-n", "2"] if xdist else []))
    out = result.stdout.str()
    assert result.ret == 0, out
    # The terminal: the per-host table's waived column and verdict, then each justification.
    table = out.split("hostkit compliance", 1)[1].splitlines()
    head = next(line for line in table if line.startswith("host"))
    row = next(line for line in table if line.startswith("local://"))
    assert "waived" in head.split()
    assert dict(zip(head.split(), row.split(), strict=True)) | {"host": "local://"} == {
        "host": "local://",
        "passed": "1",
        "failed": "0",
        "fixed": "0",
        "warning": "0",
        "waived": "3",
        "error": "0",
        "skipped": "0",
        "verdict": "compliant",
    }
    waived = out.split("waived checks", 1)[1]
    for check, why, found in [
        ("t.marker", "the marker is written by the vendor's agent", "marker lacks hello"),
        ("t.boom", "boom is a known bug of the probe", "RuntimeError: boom"),
        ("t.soft", "soft is accepted on this host", "soft file missing"),
    ]:
        line = rf"\nlocal://\s+{re.escape(check)}\s+{re.escape(why)}\s+\| {re.escape(found)}\n"
        assert re.search(line, waived), waived
    assert "FAILED" not in out and "3 waived" in out
    # JUnit: no failure, the outcome and justification as properties and a system-out line.
    cases = junit(pytester)
    case = cases["test_marker[local://-marker]"]
    assert case.find("failure") is None and case.find("error") is None
    assert props(case)["outcome"] == "waived"
    assert props(case)["waiver"] == "the marker is written by the vendor's agent"
    assert case.findtext("system-out") == (
        "waived: t.marker: the marker is written by the vendor's agent; found: marker lacks hello"
    )
    assert props(cases["test_ok[local://]"])["outcome"] == "passed"
    # JSON: waived with the waiver; a pass stays a pass and names the waiver it matched.
    doc, by_check = results(pytester)
    assert by_check["t.marker"]["outcome"] == "waived"
    assert by_check["t.marker"]["message"] == "marker lacks hello"
    assert by_check["t.marker"]["waiver"] == {
        "justification": "the marker is written by the vendor's agent",
        "expires": None,
    }
    assert by_check["t.boom"]["outcome"] == by_check["t.soft"]["outcome"] == "waived"
    assert by_check["t.ok"]["outcome"] == "passed"
    assert by_check["t.ok"]["waiver"]["justification"] == "passes anyway"
    assert doc["hosts"][0]["verdict"] == "compliant"
    assert [w["check"] for w in doc["waivers"]] == ["t.marker", "t.boom", "t.so*", "t.ok"]
    html = (pytester.path / "run.html").read_text()
    assert "boom is a known bug of the probe" in html


def test_a_waiver_for_other_hosts_leaves_the_failure(pytester, marker):
    text = "- check: t.marker\n  hosts: [node1, 'gpu-*']\n  justification: not here\n"
    result = run(pytester, waivers(pytester, text), "-k", "marker")
    assert result.ret == 1
    _, by_check = results(pytester)
    assert by_check["t.marker"]["outcome"] == "failed"
    assert by_check["t.marker"]["waiver"] is None


@pytest.mark.parametrize("quiet", [[], ["-q"]], ids=["header", "quiet"])
def test_an_expired_waiver_is_announced_once_and_not_applied(pytester, marker, quiet):
    text = (
        "- check: t.marker\n  hosts: [local://]\n  justification: old\n  expires: 2001-01-31\n"
        "- check: t.boom\n  justification: still current\n  expires: 2999-12-31\n"
    )
    result = run(pytester, waivers(pytester, text), "-k", "marker or boom", *quiet)
    assert result.ret == 1
    line = "waiver for t.marker on local:// expired on 2001-01-31: not applied"
    assert result.stdout.lines.count(line) == 1
    # At the start: before the progress line of the checks.
    progress = next(n for n, text in enumerate(result.stdout.lines) if "[100%]" in text)
    assert result.stdout.lines.index(line) < progress
    _, by_check = results(pytester)
    assert by_check["t.marker"]["outcome"] == "failed"
    assert by_check["t.boom"]["outcome"] == "waived"
    assert by_check["t.boom"]["waiver"]["expires"] == "2999-12-31"


def test_fix_leaves_a_waived_check_alone(pytester, marker):
    text = "- check: t.marker\n  justification: the agent owns the marker\n"
    result = run(pytester, waivers(pytester, text), "--fix", "-k", "marker")
    assert result.ret == 0, result.stdout.str()
    assert marker.read_text() == "old\n"
    _, by_check = results(pytester)
    assert by_check["t.marker"]["outcome"] == "waived"
    assert by_check["t.marker"]["fixes"] == []
    # The same run without the waiver does write the file: the check's fix is a real one.
    result = run(pytester, "--fix", "-k", "marker")
    assert result.ret == 0 and marker.read_text() == "hello\n"


def test_dry_run_plans_nothing_for_a_waived_check(pytester, marker):
    text = "- check: t.marker\n  justification: the agent owns the marker\n"
    result = run(pytester, waivers(pytester, text), "--fix", "--dry-run", "-k", "marker")
    assert result.ret == 0, result.stdout.str()
    assert "planned changes" not in result.stdout.str()
    _, by_check = results(pytester)
    assert by_check["t.marker"]["fixes"] == []
    result = run(pytester, "--fix", "--dry-run", "-k", "marker")
    assert "planned changes" in result.stdout.str()


# Nine levels of ten aliases where a waiver's date goes: a billion values once expanded.
LAUGHS = "- check: t.ok\n  justification: x\n  expires:\n" + "".join(
    f"    a{n}: &a{n} [{', '.join([f'*a{n - 1}' if n else 'lol'] * 10)}]\n" for n in range(9)
)


INVENTORY = """
[gpu]
box ansible_connection=local
"""


def test_hosts_match_inventory_groups(pytester, marker):
    (pytester.path / "hosts.ini").write_text(INVENTORY)
    text = "- check: t.marker\n  hosts: [gpu]\n  justification: gpu nodes keep it\n"
    args = ["-p", "no:cacheprovider", "--inventory=hosts.ini", "--inventory-backend=builtin"]
    args += ["--report-json=run.json", "-k", "marker", waivers(pytester, text)]
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == 0, result.stdout.str()
    _, by_check = results(pytester)
    assert by_check["t.marker"]["host"] == "box"
    assert by_check["t.marker"]["outcome"] == "waived"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (None, "no such file"),
        ("- check: [t.ok\n", "invalid YAML: line 2, column 1: "),
        ("- check: t.ok\n  justification: x\n  reason: y\n", "entry 1: unknown key(s) reason"),
        ("- check: t.ok\n  justification: x\n- check: t.boom\n", "entry 2: justification is"),
        ("- check: t.ok\n  justification: x\n  expires: 2026-13-01\n", "entry 1: expires"),
        ("- check: t.nothing.*\n  justification: x\n", "entry 1: check 't.nothing.*' matches"),
        (LAUGHS, "invalid YAML: line 9, column 9: aliases expand this past 1,000,000 more"),
    ],
    ids=["missing", "yaml", "key", "justification", "date", "no-check", "billion-laughs"],
)
def test_a_bad_waivers_file_is_one_usage_error(pytester, marker, text, complaint):
    if text is not None:
        (pytester.path / "waivers.yaml").write_text(text)
    result = run(pytester, "--waivers=waivers.yaml")
    assert result.ret == EXIT_USAGE
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("ERROR: --waivers waivers.yaml: ")
    assert complaint in lines[0], lines[0]
    assert not (pytester.path / "run.json").exists()
