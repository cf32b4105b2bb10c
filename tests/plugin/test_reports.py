"""--report-json and --report-html from real runs, serial and under xdist, next to JUnit."""

from __future__ import annotations

import json
import os
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from kit.reports.json_report import SCHEMA
from tests.plugin.fixruns import state_dirs

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

@remediation(strategy="configure", disruption="low")
def write_marker(target, path, content):
    return files.write_file(target.conn, path, content, dry_run=target.dry_run)

def _read(conn, path):
    res = conn.run("cat -- %s", path)
    return res.stdout if res.ok else None

@check("t.ok", "always holds & <never> fails", refs={"cis": "1.2.3"})
def test_ok(conn):
    assert conn.run("true").ok

@check("t.marker", "marker file holds its content", fix=write_marker)
@pytest.mark.parametrize("path,content", [(MARKER, "hello\\n")], ids=["marker"])
def test_marker(conn, path, content):
    assert _read(conn, path) == content, "marker <b>missing</b>"

@check("t.value", "a value the host does not have")
@pytest.mark.parametrize("v", [1, 2])
def test_value(conn, v):
    assert v == 1, "found <script>alert(1)</script> instead"

@check("t.soft", "only a warning", severity="warning")
def test_soft(conn):
    assert False, "soft file missing"

@check("t.later", "not on this host")
def test_later(conn):
    pytest.skip("needs systemd")
"""


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def this_checkout(monkeypatch):
    """The runs import the kit beside these tests, whichever copy is installed."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def suite(pytester: pytest.Pytester, tmp_path):
    marker = tmp_path / "marker"
    pytester.makepyfile(test_checks=f"MARKER = {str(marker)!r}\n" + CHECKS)
    return marker


def run(pytester: pytest.Pytester, *args: str, xdist: bool = False) -> pytest.RunResult:
    dead = f"ssh://127.0.0.1:{closed_port()}"
    extra = ["-n", "2"] if xdist else []
    return pytester.runpytest_subprocess(
        f"--hosts=local://,{dead}",
        "--junitxml=out/junit.xml",
        "--report-json=out/deep/run.json",
        "--report-html=out/run.html",
        *state_dirs(pytester),
        *extra,
        *args,
    )


def junit_cases(pytester: pytest.Pytester) -> list[str]:
    tree = ET.parse(pytester.path / "out" / "junit.xml")
    return [c.get("name") for c in tree.iter("testcase")]


def load(pytester: pytest.Pytester) -> dict:
    doc = json.loads((pytester.path / "out" / "deep" / "run.json").read_text())
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(doc)
    return doc


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_fix_run_writes_every_format(pytester, suite, xdist):
    result = run(pytester, "--fix", xdist=xdist)
    assert result.ret == 1
    doc = load(pytester)
    tests = [r["test"].rpartition("::")[2] for r in doc["results"]]
    # Every host's every check once, the same set JUnit reports.
    assert sorted(tests) == sorted(junit_cases(pytester))
    assert len(tests) == len(set(tests)) == 12
    by = {(r["host"], r["check"], tuple(r["params"].values())): r for r in doc["results"]}
    local = {k[1:]: r for k, r in by.items() if k[0] == "local://"}
    marker = local[("t.marker", (str(suite), "hello\n"))]
    assert marker["outcome"] == "fixed"
    assert marker["fixes"][0]["status"] == "applied"
    assert str(suite) in marker["fixes"][0]["summary"]
    assert local[("t.value", ("2",))]["outcome"] == "failed"
    assert "<script>alert(1)</script>" in local[("t.value", ("2",))]["message"]
    assert local[("t.value", ("1",))]["outcome"] == "passed"
    assert local[("t.soft", ())]["outcome"] == "warning"
    assert local[("t.soft", ())]["message"] == "soft file missing"
    assert (
        local[("t.later", ())] | {"outcome": "skipped", "message": "needs systemd"}
        == (local[("t.later", ())])
    )
    dead = [h for h in doc["hosts"] if h["name"] != "local://"]
    assert len(dead) == 1 and dead[0]["verdict"] == "unreachable"
    assert "refused" in dead[0]["unreachable"].lower()
    assert dead[0]["totals"] == {"unreachable": 6}
    assert {h["name"]: h["verdict"] for h in doc["hosts"]}["local://"] == "non-compliant"
    checks = {c["id"]: c for c in doc["checks"]}
    assert checks["t.ok"]["refs"] == {"cis": "1.2.3"}
    assert checks["t.soft"]["severity"] == "warning"
    assert doc["mode"] == "fix" and doc["run_id"] and doc["waivers"] == []
    assert all(r["waiver"] is None and r["duration"] >= 0 for r in doc["results"])
    html = (pytester.path / "out" / "run.html").read_text()
    # Host output and titles reach the page as text, never as markup.
    assert "<script>alert(1)" not in html and "<b>missing" not in html
    assert "\\u003cscript\\u003ealert(1)" in html
    assert "always holds &amp; &lt;never&gt; fails" in html
    assert html.count('data-c="') == 10  # t.later and t.soft too; the dead host's 5 checks
    result.stdout.fnmatch_lines(["*hostkit report --report-json: wrote *run.json*"])


def test_dry_run_records_the_planned_diff(pytester, suite):
    suite.write_text("old\n")
    result = run(pytester, "--fix", "--dry-run", "-k", "marker")
    assert result.ret == 1
    doc = load(pytester)
    assert doc["mode"] == "dry-run" and doc["run_id"] is None
    (marker,) = [r for r in doc["results"] if r["host"] == "local://"]
    assert marker["outcome"] == "failed"
    (planned,) = marker["fixes"]
    assert planned["status"] == "planned"
    assert "-old" in planned["diff"] and "+hello" in planned["diff"]
    assert suite.read_text() == "old\n"


def test_a_report_replaces_the_old_one_whole(pytester, suite):
    out = pytester.path / "out"
    (out / "deep").mkdir(parents=True)
    (out / "deep" / "run.json").write_text("stale")
    run(pytester, "-k", "ok")
    assert load(pytester)["results"]
    assert sorted(p.name for p in (out / "deep").iterdir()) == ["run.json"]


@pytest.mark.parametrize(
    "args,line",
    [
        (["--report-json=."], "ERROR: --report-json .: is a directory; give a file name"),
        (
            ["--report-html=afile/r.html"],
            "ERROR: --report-html afile/r.html: */afile is a file, not a directory",
        ),
        (
            ["--report-json=r.out", "--report-html=r.out"],
            "ERROR: --report-json and --report-html both name */r.out: give each its own",
        ),
        (
            ["--junitxml=r.xml", "--report-html=r.xml"],
            "ERROR: --junitxml and --report-html both name */r.xml: give each its own",
        ),
    ],
    ids=["directory", "under-a-file", "json-is-html", "html-is-junit"],
)
def test_a_bad_report_path_is_one_usage_line(pytester, suite, args, line):
    (pytester.path / "afile").write_text("")
    result = pytester.runpytest_subprocess("--hosts=local://", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([line])
    assert len([ln for ln in result.stderr.lines if ln.strip()]) == 1, result.stderr.str()
    assert not (pytester.path / "afile").read_text()
