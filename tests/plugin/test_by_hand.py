"""Every failing check says what to do by hand: in the terminal, JUnit and the JSON report,
for a site's own checks (their by-hand.yaml) and the shipped ones, serially and under -n."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.plugin.fixruns import state_dirs

ROOT = Path(__file__).resolve().parents[2]

SITE_CHECKS = """
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

@remediation(strategy="configure", disruption="low")
def write_marker(target, path):
    return files.write_file(target.conn, path, b"ok\\n", dry_run=target.dry_run)

@check("site.value", "the site's values are good", params="values", argnames="name,value")
def test_value(conn, name, value):
    assert value == "good", f"{name} is not good"

@check("site.soft", "only a warning", severity="warning")
def test_soft(conn):
    assert False, "soft file missing"

@check("site.marker", "marker file exists", fix=write_marker, params="markers", argnames="path")
def test_marker(conn, path):
    assert conn.run("cat -- %s", path).ok, "marker missing"

@remediation(strategy="configure", disruption="low")
def break_down(target):
    raise RuntimeError("the fix broke")

@check("site.broken", "its fix fails", fix=break_down)
def test_broken(conn):
    assert False, "broken state"

@check("site.crash", "the check cannot tell")
def test_crash(conn):
    raise RuntimeError("cannot read the state")

@check("site.bare", "a check of the site's with no text")
def test_bare(conn):
    assert False, "bare failed"
"""

BY_HAND = """
site.value: set {name} to good in /etc/site.conf (it is {value})
site.soft: touch /etc/soft
site.marker: echo ok > {path}
site.broken: repair it by hand
site.crash: look at it by hand
"""


@pytest.fixture(autouse=True)
def this_kit(monkeypatch):
    """The subprocesses import the kit under test, wherever their working directory is."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    monkeypatch.setenv("PYTHONPATH", path)


@pytest.fixture
def site(pytester: pytest.Pytester, tmp_path: Path) -> pytest.Pytester:
    existing = tmp_path / "kubelet.conf"
    existing.write_text("")
    pytester.makeini("[pytest]\n")
    pytester.makeconftest("")
    pytester.makepyfile(test_site=SITE_CHECKS)
    (pytester.path / "by-hand.yaml").write_text(BY_HAND)
    (pytester.path / "profiles").mkdir()
    (pytester.path / "profiles" / "site.yaml").write_text(
        "name: site\n"
        "extends: kubernetes-node\n"
        "checks: [site.*, k8s.file.absent]\n"
        "params:\n"
        '  values: {colour: "bad\\e[31m", size: good}\n'
        f"  markers: [{tmp_path / 'marker'}]\n"
        f"  files_absent: [{existing}]\n"
    )
    return pytester


def run(site: pytest.Pytester, *args: str) -> pytest.RunResult:
    return site.runpytest_subprocess(
        ".",
        "--pyargs",
        "hostkit_catalog.checks",
        "--hosts=local://",
        "--profile=profiles/site.yaml",
        "--junitxml=junit.xml",
        "--report-json=run.json",
        "--report-html=run.html",
        "-p",
        "no:cacheprovider",
        *state_dirs(site),
        *args,
    )


def junit(site: pytest.Pytester) -> dict[str, ET.Element]:
    cases = ET.parse(site.path / "junit.xml").getroot().iter("testcase")
    return {c.get("name", ""): c for c in cases}


def prop(case: ET.Element, name: str) -> str | None:
    found = [p.get("value") for p in case.iter("property") if p.get("name") == name]
    return found[-1] if found else None


@pytest.mark.parametrize("xdist", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_each_failing_check_says_what_to_do_by_hand_everywhere(site, tmp_path, xdist):
    result = run(site, "--fix", *xdist)
    out = result.stdout.str()
    assert result.ret == 1, out + result.stderr.str()
    existing = tmp_path / "kubelet.conf"
    # The terminal: one line under each failure; the value the profile gave is one shell
    # word, and its escape character is shown escaped, never sent to the terminal.
    assert "by hand: set colour to good in /etc/site.conf (it is 'bad\\x1b[31m')" in out
    assert "\x1b[31m" not in out
    shipped = (
        f"by hand: this node was set up before: run kubeadm reset, or remove {existing} "
        "if nothing uses it, before kubeadm join or init"
    )
    assert shipped in out
    assert "by hand: touch /etc/soft" in out.split("warnings", 1)[1]
    assert "by hand: repair it by hand" in out
    # Once under each of the four, before pytest's short summary: that repeats a failure's
    # message, whole where pytest does not shorten it (with CI set, or a wide terminal).
    body = out.split("short test summary info", 1)[0]
    assert body.count("by hand:") == 4, out
    # JUnit: a property on the failing, warned and still-failing cases, and the failure's text.
    cases = junit(site)
    colour = cases["test_value[local://-colour=bad\\x1b[31m]"]
    # pytest's JUnit writer writes a character XML cannot hold as #xNN.
    assert prop(colour, "by_hand") == "set colour to good in /etc/site.conf (it is 'bad#x1B[31m')"
    failure = colour.find("failure")
    assert failure is not None and "by hand: set colour to good" in (failure.text or "")
    (absent,) = [c for n, c in cases.items() if n.startswith("test_file_absent")]
    assert prop(absent, "by_hand") == shipped.removeprefix("by hand: ")
    soft = cases["test_soft[local://]"]
    assert prop(soft, "by_hand") == "touch /etc/soft"
    # A warning is no failure in JUnit: its system-out line, which CI viewers show, says it.
    said = soft.findtext("system-out") or ""
    assert said == "warning: site.soft: soft file missing\nby hand: touch /etc/soft"
    # A check that passed or was fixed has nothing to do by hand; one without a text says none.
    for name in ("test_value[local://-size=good]", "test_bare[local://]"):
        assert prop(cases[name], "by_hand") is None, name
    # A fix that failed leaves the check to be repaired by hand; a check that could not
    # tell (an error of its own) has found nothing to repair.
    assert prop(cases["test_broken[local://]"], "outcome") == "error"
    assert prop(cases["test_broken[local://]"], "by_hand") == "repair it by hand"
    assert prop(cases["test_crash[local://]"], "outcome") == "error"
    assert prop(cases["test_crash[local://]"], "by_hand") is None
    (marker,) = [c for n, c in cases.items() if n.startswith("test_marker")]
    assert prop(marker, "outcome") == "fixed" and prop(marker, "by_hand") is None
    # JSON: by_hand on each result, null where there is nothing to do by hand.
    doc = json.loads((site.path / "run.json").read_text())
    by = {(r["check"], tuple(r["params"].values())): r for r in doc["results"]}
    want = "set colour to good in /etc/site.conf (it is 'bad\x1b[31m')"
    assert by[("site.value", ("colour", "bad\x1b[31m"))]["by_hand"] == want
    assert by[("site.soft", ())]["by_hand"] == "touch /etc/soft"
    assert by[("site.value", ("size", "good"))]["by_hand"] is None
    assert by[("site.marker", (str(tmp_path / "marker"),))]["by_hand"] is None
    assert by[("site.bare", ())]["by_hand"] is None
    # HTML: each distinct text once, in the data the page's cells open.
    html = (site.path / "run.html").read_text()
    blob = html.split('<script id="data" type="application/json">', 1)[1].split("</script>")[0]
    data = json.loads(blob)
    assert sorted(data["by_hand"]) == sorted(
        r["by_hand"] for r in doc["results"] if r["by_hand"] is not None
    )
    soft = [r for r in data["results"] if r["test"].endswith("test_soft[local://]")]
    assert data["by_hand"][soft[0]["by_hand"]] == "touch /etc/soft"


def test_a_bad_text_stops_the_run_before_any_host(site):
    (site.path / "by-hand.yaml").write_text(BY_HAND + "site.gone: do it\n")
    result = run(site)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = [line for line in result.stderr.lines if line.strip()]
    assert err == [
        f"ERROR: {site.path / 'by-hand.yaml'}: 'site.gone' is no check in the catalog {site.path}"
    ], result.stderr.str()


def test_a_run_without_a_profile_finds_the_texts_beside_its_modules(pytester):
    pytester.makeini("[pytest]\n")
    sub = pytester.mkdir("site")
    (sub / "test_site.py").write_text(SITE_CHECKS)
    (sub / "by-hand.yaml").write_text(BY_HAND)
    result = pytester.runpytest_subprocess(
        "site", "--hosts=local://", "-p", "no:cacheprovider", "-k", "soft or bare"
    )
    out = result.stdout.str()
    assert result.ret == 1, out + result.stderr.str()
    assert "    by hand: touch /etc/soft" in out
    assert out.count("by hand:") == 1, out


def test_a_waived_failure_has_nothing_to_do_by_hand(site):
    (site.path / "waivers.yaml").write_text(
        "- check: site.value\n  justification: the colour stays until the rebrand\n"
    )
    result = run(site, "--waivers=waivers.yaml", "-k", "value")
    out = result.stdout.str()
    assert result.ret == 0, out + result.stderr.str()
    assert "by hand:" not in out
    doc = json.loads((site.path / "run.json").read_text())
    outcomes = {r["outcome"]: r["by_hand"] for r in doc["results"]}
    assert outcomes == {"waived": None, "passed": None}
