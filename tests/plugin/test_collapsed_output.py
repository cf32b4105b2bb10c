"""A host the run could not look at is one line, not one error block per check; and every
writer counts the same outcomes: pytest's last line, the host table and JUnit's attributes.

An unreachable host's checks are errors everywhere (pytest, the table, JUnit), and so is a
check that raised something other than its assertion: the table has always called that an
error, pytest called it a failure and JUnit `failures`, which made their counts disagree.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET

import pytest

from tests.plugin.test_output import section

CHECKS = """
import pytest
from kit.catalog.check import check


@check("t.value", "the value is right")
@pytest.mark.parametrize("n", [1, 2, 3])
def test_value(conn, n):
    assert n == 0, f"value is {n}, want 0"


@check("t.good", "always right")
@pytest.mark.parametrize("n", [1, 2])
def test_good(conn, n):
    assert conn.run("true").ok


@check("t.crash", "a check that breaks")
def test_crash(conn):
    raise RuntimeError("the check itself broke")
"""


@pytest.fixture
def dead() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"ssh://127.0.0.1:{sock.getsockname()[1]}"


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_checks=CHECKS)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def summary_counts(out: str) -> dict[str, int]:
    """pytest's last line, `= 3 failed, 2 passed, 7 errors in 0.1s =`, as numbers."""
    last = [ln for ln in out.splitlines() if re.match(r"^=+ .* in [\d.]+s", ln)][-1]
    found = re.findall(r"(\d+) (failed|passed|errors?|skipped)", last)
    return {word.rstrip("s") if word.startswith("error") else word: int(n) for n, word in found}


def table_totals(out: str) -> dict[str, int]:
    rows = section(out, "hostkit compliance")
    head = rows[0].split()
    totals: dict[str, int] = {}
    for row in rows[2:]:
        cells = row.split()[1 : len(head) - 1]
        for name, cell in zip(head[1:-1], cells, strict=True):
            totals[name] = totals.get(name, 0) + int(cell)
    return totals


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_unreachable_host_is_collapsed_to_one_line(pytester, dead, xdist):
    extra = ["-n", "2"] if xdist else []
    result = run(pytester, f"--hosts=local://,{dead}", "--junitxml=junit.xml", *extra)
    out = result.stdout.str()
    port = dead.rpartition(":")[2]
    # The reason once, with what to do about it; the host's checks have no block nor line.
    reasons = [ln for ln in out.splitlines() if "refused" in ln.lower()]
    assert len(reasons) == 1, out
    assert reasons[0].startswith(f"{dead}: ") and "sshd" in reasons[0], reasons
    assert not [ln for ln in out.splitlines() if "ERROR at setup" in ln and port in ln], out
    assert not [ln for ln in out.splitlines() if ln.startswith("ERROR ") and port in ln], out
    assert "Traceback" not in out
    # JUnit keeps one entry per check of the host, each an error with the reason.
    cases = [
        c for c in ET.parse(pytester.path / "junit.xml").iter("testcase") if port in c.get("name")
    ]
    assert len(cases) == 6
    for case in cases:
        (error,) = case.findall("error")
        assert "refused" in error.get("message").lower(), error.get("message")


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_counts_agree_across_pytest_table_and_junit(pytester, dead, xdist):
    extra = ["-n", "2"] if xdist else []
    result = run(pytester, f"--hosts=local://,{dead}", "--junitxml=junit.xml", *extra)
    out = result.stdout.str()
    said = summary_counts(out)
    table = table_totals(out)
    suite = next(ET.parse(pytester.path / "junit.xml").iter("testsuite"))
    # local://: 3 failed, 2 passed, 1 broken check; the dead host: 6 unreachable checks.
    assert said == {"failed": 3, "passed": 2, "error": 7}, out
    assert (table["failed"], table["passed"], table["error"]) == (3, 2, 7), out
    assert (suite.get("failures"), suite.get("errors")) == ("3", "7")
    # The broken check is an error in JUnit, with its message.
    (crash,) = [c for c in suite.iter("testcase") if c.get("name") == "test_crash[local://]"]
    assert crash.find("failure") is None
    assert "the check itself broke" in crash.find("error").get("message")
