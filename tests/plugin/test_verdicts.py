"""One verdict per host: the terminal's table, JUnit, the JSON report and the HTML page of
one run show the same verdict for every host, serially and under xdist.

The run's hosts other than this machine are names the checks give their own reports (the
`on` marker below), each with the outcomes that decide a verdict: all passed, a fix, a
failure, an error, an unreachable host, only a warning, only a skip. The reports reach
every writer as a real host check's do: through pytest, with the plugin's outcome
properties on them.
"""

from __future__ import annotations

import html
import json
import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.plugin.fixruns import state_dirs

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = """
import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "on(host): the host this check's reports are of")


@pytest.fixture(autouse=True)
def _on_host(request):
    mark = request.node.get_closest_marker("on")
    if mark is not None:
        request.node.user_properties.append(("host", mark.args[0]))
"""

CHECKS = """
import pytest

from kit.catalog.check import check
from kit.plugin import fix as fixflow


def test_this_machine(conn):
    assert conn.run("true").ok


@pytest.mark.on("h-pass")
def test_pass():
    pass


@pytest.mark.on("h-fixed")
def test_fixed_pass():
    pass


@pytest.mark.on("h-fixed")
def test_fixed(request):
    # What the fix flow records for a check that passed once its fix ran.
    request.node.stash[fixflow.OUTCOME] = "fixed"


@pytest.mark.on("h-mixed")
def test_mixed_fixed(request):
    request.node.stash[fixflow.OUTCOME] = "fixed"


@pytest.mark.on("h-mixed")
def test_mixed_failed():
    assert False, "found 0, want 1"


@pytest.fixture
def broken():
    raise RuntimeError("a fixture broke")


@pytest.mark.on("h-error")
def test_error(broken):
    pass


@pytest.fixture
def unreachable(request):
    # As kit.plugin.checkreport.connect_first marks a check of a host it cannot reach.
    request.node.user_properties.append(("unreachable", "connection refused"))
    pytest.fail("host unreachable", pytrace=False)


@pytest.mark.on("h-down")
def test_down(unreachable):
    pass


@check("t.soft", "only a warning", severity="warning")
@pytest.mark.on("h-warned")
def test_warned():
    assert False, "soft"


@pytest.mark.on("h-skipped")
def test_skipped():
    pytest.skip("not on this host")
"""

# What the rules say for each host; every writer must show these, and the same ones.
EXPECTED = {
    "local://": "compliant",
    "h-pass": "compliant",
    "h-fixed": "fixed",
    "h-mixed": "non-compliant",
    "h-error": "non-compliant",
    "h-down": "unreachable",
    "h-warned": "compliant",
    "h-skipped": "compliant",
}


@pytest.fixture(autouse=True)
def this_checkout(monkeypatch):
    """The runs import the kit beside these tests, whichever copy is installed."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )


def terminal_verdicts(out: str) -> dict[str, str]:
    lines = out.splitlines()
    start = next(i for i, ln in enumerate(lines) if "hostkit compliance" in ln)
    table = []
    for line in lines[start + 1 :]:
        if not line.strip() or line.startswith("="):
            break
        table.append(line)
    assert table[0].split()[0] == "host" and table[0].split()[-1] == "verdict", table
    return {row.split()[0]: row.split()[-1] for row in table[2:]}


def junit_verdicts(path: Path) -> dict[str, str]:
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    found = {}
    for prop in suite.findall("properties/property"):
        named = re.fullmatch(r"hostkit_verdict\[(.+)\]", prop.get("name", ""))
        if named:
            found[named.group(1)] = prop.get("value")
    return found


def json_verdicts(path: Path) -> dict[str, str]:
    return {h["name"]: h["verdict"] for h in json.loads(path.read_text())["hosts"]}


def html_verdicts(path: Path) -> dict[str, str]:
    rows = re.findall(
        r'<tr><th>([^<]*)</th>.*?<td class="v-[^"]*">([^<]*)</td></tr>',
        path.read_text(),
        re.DOTALL,
    )
    return {html.unescape(host): verdict for host, verdict in rows}


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_every_writer_shows_the_same_verdict_for_each_host(pytester, xdist):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_checks=CHECKS)
    out = pytester.path / "out"
    result = pytester.runpytest_subprocess(
        "--hosts=local://",
        f"--junitxml={out / 'junit.xml'}",
        f"--report-json={out / 'run.json'}",
        f"--report-html={out / 'run.html'}",
        *state_dirs(pytester),
        *(["-n", "2"] if xdist else ["-p", "no:xdist"]),
    )
    assert result.ret == 1, result.stdout.str()
    shown = {
        "terminal": terminal_verdicts(result.stdout.str()),
        "junit": junit_verdicts(out / "junit.xml"),
        "json": json_verdicts(out / "run.json"),
        "html": html_verdicts(out / "run.html"),
    }
    for writer, verdicts in shown.items():
        assert verdicts == EXPECTED, f"{writer} shows {verdicts}"
