"""What a run says: each check's id and message, warnings and their reasons, a verdict per host,
one line per unreachable host, one line per failed fix, and an exit code per kind of outcome."""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET

import pytest

from kit.plugin.outcomes import EXIT_COMPLIANT, EXIT_NON_COMPLIANT, EXIT_UNREACHABLE
from tests.plugin.fixruns import state_dirs

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation


@remediation(strategy="configure", disruption="low")
def explode(target, path):
    raise RuntimeError("cannot repair " + path)


@remediation(strategy="configure", disruption="low")
def create(target, path):
    from kit.runner import files
    return files.write_file(target.conn, path, "x\\n", dry_run=target.dry_run)


@check("t.value", "the value is right")
def test_value(conn):
    value = 3
    assert value == 1, f"value is {value}, want 1"


@check("t.soft", "only a warning", severity="warning")
def test_soft(conn):
    assert False, "soft file missing"


@check("t.good", "always right")
def test_good(conn):
    assert conn.run("true").ok


@check("t.broken", "a fix that raises", fix=explode)
@pytest.mark.parametrize("path", [MISSING], ids=["m"])
def test_broken(conn, path):
    assert conn.run("test -e %s", path).ok, "file missing"


@check("t.softfix", "a warning whose fix raises", severity="warning", fix=explode)
@pytest.mark.parametrize("path", [MISSING], ids=["m"])
def test_softfix(conn, path):
    assert conn.run("test -e %s", path).ok, "soft file absent"


@check("t.fixable", "a fix that works", fix=create)
@pytest.mark.parametrize("path", [CREATED], ids=["c"])
def test_fixable(conn, path):
    assert conn.run("test -e %s", path).ok, "not created yet"
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, tmp_path):
    header = f"MISSING = {str(tmp_path / 'missing')!r}\nCREATED = {str(tmp_path / 'made')!r}\n"
    pytester.makepyfile(test_checks=header + CHECKS)
    return tmp_path


@pytest.fixture
def dead() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"ssh://127.0.0.1:{sock.getsockname()[1]}"


def section(out: str, title: str, rule: str = "=") -> list[str]:
    """The lines of one `=== title ===` section of the terminal summary (`___` for a test)."""
    lines = out.split(f" {title} {rule}", 1)[1].splitlines()[1:]
    # A section ends at the next one, or at the blank line before pytest's last line.
    ends = ("=", "_")
    return lines[: next((i for i, ln in enumerate(lines) if not ln or ln.startswith(ends)), None)]


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)


def test_failure_shows_check_id_message_and_the_failing_line(pytester, suite):
    result = run(pytester, "-k", "value", "-rf")
    assert result.ret == EXIT_NON_COMPLIANT
    result.stdout.fnmatch_lines(
        ["FAILED test_checks.py::test_value* - t.value: value is 3, want 1"]
    )
    source = (pytester.path / "test_checks.py").read_text().splitlines()
    at = 1 + source.index('    assert value == 1, f"value is {value}, want 1"')
    decorator = 1 + source.index('@check("t.value", "the value is right")')
    assert at != decorator
    lines = section(result.stdout.str(), "test_value[local://]", "_")
    assert lines == [
        "t.value: value is 3, want 1",
        "E   assert 3 == 1",
        f"test_checks.py:{at}: check failed",
    ]


def test_warning_reason_is_shown_and_marked_in_junit(pytester, suite):
    result = run(pytester, "-k", "soft and not softfix", "--junitxml=junit.xml")
    assert result.ret == EXIT_COMPLIANT
    assert section(result.stdout.str(), "warnings") == ["local:// t.soft: soft file missing"]
    (case,) = ET.parse(pytester.path / "junit.xml").iter("testcase")
    assert case.findtext("system-out") == "warning: t.soft: soft file missing"
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert props["outcome"] == "warning"


def test_verdict_column_per_host(pytester, suite, dead):
    result = run(
        pytester, f"--hosts=local://,{dead}", "--fix", *state_dirs(pytester), "-k", "fixable"
    )
    table = section(result.stdout.str(), "hostkit compliance")
    assert table[0].split()[-1] == "verdict"
    verdicts = {row.split()[0]: row.split()[-1] for row in table[2:]}
    assert verdicts == {"local://": "fixed", dead: "unreachable"}
    again = run(pytester, "--hosts=local://", "-k", "fixable or good or soft and not softfix")
    assert section(again.stdout.str(), "hostkit compliance")[2].split()[-1] == "compliant"
    failing = run(pytester, "--hosts=local://", "-k", "value")
    assert section(failing.stdout.str(), "hostkit compliance")[2].split()[-1] == "non-compliant"


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_unreachable_host_is_one_line_and_its_own_exit_code(pytester, suite, dead, xdist):
    extra = ["-n", "2"] if xdist else []
    result = run(pytester, f"--hosts={dead}", "-k", "good or value", *extra)
    assert result.ret == EXIT_UNREACHABLE, result.stdout.str()
    out = result.stdout.str()
    (line,) = section(out, "unreachable hosts")
    assert line.startswith(f"{dead}: ") and "refused" in line.lower()
    assert out.count("refused") == 1, out
    assert "During handling" not in out and "Traceback" not in out
    # The host's checks have no error block each: its one line above says why.
    assert "ERROR at setup" not in out


def test_a_failing_reachable_host_outranks_an_unreachable_one(pytester, suite, dead):
    result = run(pytester, f"--hosts=local://,{dead}", "-k", "value")
    assert result.ret == EXIT_NON_COMPLIANT


def test_compliant_run_exits_zero_with_warnings(pytester, suite):
    result = run(pytester, "-k", "good or soft and not softfix")
    assert result.ret == EXIT_COMPLIANT


def test_failed_fix_is_one_line_unless_verbose(pytester, suite):
    args = ["--hosts=local://", "--fix", *state_dirs(pytester), "-k", "broken"]
    result = run(pytester, *args)
    assert result.ret == EXIT_NON_COMPLIANT
    missing = suite / "missing"
    lines = section(result.stdout.str(), "test_broken[local://-m]", "_")
    assert lines == [
        f"t.broken: fix failed at its first step: cannot repair {missing}; host unchanged",
        "E   file missing",
    ]
    verbose = run(pytester, *args, "-v")
    assert "RuntimeError: cannot repair" in verbose.stdout.str()


def test_warning_whose_fix_cannot_be_planned_stays_a_warning(pytester, suite):
    # Named by --check, or a warning's fix is not even planned (tests/plugin/test_warning_fixes).
    args = ["--hosts=local://", "--fix", "--dry-run", *state_dirs(pytester)]
    result = run(pytester, *args, "-k", "softfix", "--check", "t.softfix")
    assert result.ret == EXIT_COMPLIANT, result.stdout.str()
    missing = suite / "missing"
    assert section(result.stdout.str(), "warnings") == [
        f"local:// t.softfix: soft file absent; cannot plan: cannot repair {missing}"
    ]


def test_progress_has_a_line_per_host_that_names_it(pytester, suite):
    pytester.path.joinpath("hosts.ini").write_text(
        "[fleet]\nweb1 ansible_connection=local\nweb2 ansible_connection=local\n"
    )
    args = ["--inventory=hosts.ini", "--hosts=fleet", "-k", "good or value"]
    result = run(pytester, *args)
    assert result.ret == EXIT_NON_COMPLIANT
    result.stdout.re_match_lines(
        [
            r"^test_checks\.py \[web1\] [.F]{2} +\[ 50%\]$",
            r"^test_checks\.py \[web2\] [.F]{2} +\[100%\]$",
        ]
    )
    # -q keeps its one line of letters; xdist runs hosts side by side, so it keeps its own.
    quiet = run(pytester, *args, "-q")
    quiet.stdout.re_match_lines([r"^[.F]{4} +\[100%\]$"])
    spread = run(pytester, *args, "-n", "2")
    assert spread.ret == EXIT_NON_COMPLIANT
    assert not [ln for ln in spread.stdout.lines if re.search(r"\[web[12]\] [.F]", ln)]
    one = run(pytester, "--hosts=local://", "-k", "good or value")
    one.stdout.re_match_lines([r"^test_checks\.py [.F]{2} +\[100%\]$"])
