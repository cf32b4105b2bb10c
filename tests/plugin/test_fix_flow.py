"""The plugin in-process: pairing, --fix, --dry-run, severities, JUnit, exit codes."""

from __future__ import annotations

import pytest

from kit.plugin.outcomes import EXIT_UNREACHABLE
from tests.plugin.fixruns import junit, state_dirs

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

@remediation(strategy="configure", disruption="low")
def write_marker(target, path, content):
    return files.write_file(target.conn, path, content, dry_run=target.dry_run)

@remediation(strategy="configure", disruption="low")
def write_wrong(target, path, content):
    return files.write_file(target.conn, path, "wrong\\n", dry_run=target.dry_run)

@remediation(strategy="configure", disruption="low")
def explode(target, path, content):
    raise RuntimeError("cannot repair " + path)

def _read(conn, path):
    res = conn.run("cat -- %s", path)
    return res.stdout if res.ok else None

@check("t.marker", "marker file holds its content", fix=write_marker)
@pytest.mark.parametrize("path,content", [(MARKER, "hello\\n")], ids=["marker"])
def test_marker(conn, path, content):
    assert _read(conn, path) == content

@check("t.stubborn", "a fix that does not fix", fix=write_wrong)
@pytest.mark.parametrize("path,content", [(STUBBORN, "right\\n")], ids=["stubborn"])
def test_stubborn(conn, path, content):
    assert _read(conn, path) == content

@check("t.broken", "a fix that raises", fix=explode)
@pytest.mark.parametrize("path,content", [(BROKEN, "x\\n")], ids=["broken"])
def test_broken(conn, path, content):
    assert _read(conn, path) == content

@check("t.soft", "only a warning", severity="warning", refs={"cis": "1.1"})
def test_soft(conn):
    assert _read(conn, SOFT) == "present\\n", "soft file missing"
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, tmp_path):
    paths = {name: tmp_path / name.lower() for name in ("MARKER", "STUBBORN", "BROKEN", "SOFT")}
    header = "".join(f"{name} = {str(path)!r}\n" for name, path in paths.items())
    pytester.makepyfile(test_checks=header + CHECKS)
    return paths


def counts(result: pytest.RunResult) -> dict[str, int]:
    """The closing line's outcomes, hostkit's own (fixed, warned) included.

    Deselections are left out: xdist workers deselect on their own, so only a
    serial run's closing line counts them.
    """
    names = {"error": "errors"}
    return {
        names.get(k, k): v
        for k, v in result.parseoutcomes().items()
        if k not in ("seconds", "deselected")
    }


def run(pytester: pytest.Pytester, *args: str, xdist: bool) -> pytest.RunResult:
    """A run of the suite; --fix runs name this machine and keep their record in tmp dirs."""
    extra = ["-n", "2"] if xdist else []
    if "--fix" in args:
        extra += ["--hosts=local://", *state_dirs(pytester)]
    return pytester.runpytest_subprocess("--junitxml=junit.xml", *extra, *args)


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_compliance_run_only_reads(pytester, suite, xdist):
    result = run(pytester, xdist=xdist)
    assert result.ret == 1
    assert counts(result) == dict(failed=3, warned=1)
    assert not suite["MARKER"].exists(), "a compliance run must not write"
    cases = junit(pytester)
    marker = cases["test_marker[local://-marker]"]
    assert marker["outcome"] == ["failed"]
    assert marker["host"] == ["local://"]
    assert marker["check_id"] == ["t.marker"]
    assert marker["severity"] == ["error"]
    assert cases["test_soft[local://]"]["outcome"] == ["warning"]


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_fix_repairs_then_second_fix_changes_nothing(pytester, suite, xdist):
    first = run(pytester, "--fix", xdist=xdist)
    assert suite["MARKER"].read_text() == "hello\n"
    first.stdout.fnmatch_lines(["*fixes applied*", f"*{suite['MARKER']}: created*"])
    outcomes = {name: props["outcome"][0] for name, props in junit(pytester).items()}
    assert sorted(outcomes.values()) == ["error", "failed", "fixed", "warning"]
    assert first.ret == 1  # the stubborn and broken checks still fail

    second = run(pytester, "--fix", "-k", "marker", xdist=xdist)
    assert second.ret == 0
    assert counts(second) == {"passed": 1}
    assert "fixes applied" not in second.stdout.str()


def test_failure_after_fix_shows_both_attempts(pytester, suite):
    result = run(pytester, "--fix", "-k", "stubborn", xdist=False)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*still failing after remediation*", "*-- before --*", "*-- after --*"]
    )
    assert suite["STUBBORN"].read_text() == "wrong\n"


def test_remediation_error_is_an_error_outcome(pytester, suite):
    result = run(pytester, "--fix", "-k", "broken", xdist=False)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*fix failed at its first step: cannot repair *; host unchanged"])
    assert "Traceback" not in result.stdout.str()
    (props,) = junit(pytester).values()
    assert props["outcome"] == ["error"]
    assert "RuntimeError: cannot repair" in props["fix_error"][0]


def test_dry_run_plans_with_diff_and_applies_nothing(pytester, suite):
    result = run(pytester, "--fix", "--dry-run", "-k", "marker", xdist=False)
    assert result.ret == 1
    assert not suite["MARKER"].exists()
    result.stdout.fnmatch_lines(
        ["*planned changes*", f"*{suite['MARKER']}: would be created*", "*+hello*"]
    )


def test_dry_run_needs_fix(pytester, suite):
    result = pytester.runpytest_subprocess("--dry-run")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--dry-run*--fix*"])


def test_warning_fails_the_run_only_under_strict(pytester, suite):
    lenient = run(pytester, "-k", "soft", xdist=False)
    assert lenient.ret == 0
    assert counts(lenient) == dict(warned=1)
    strict = run(pytester, "-k", "soft", "--strict", xdist=False)
    assert strict.ret == 1
    assert counts(strict) == dict(failed=1)


def test_unreachable_host_errors_once_and_others_carry_on(pytester, suite, unused_port):
    dead = f"ssh://127.0.0.1:{unused_port}"
    result = run(pytester, f"--hosts=local://,{dead}", "-k", "soft", xdist=False)
    assert counts(result) == dict(errors=1, warned=1)
    assert result.ret == EXIT_UNREACHABLE
    out = result.stdout.str()
    section = out.split("unreachable hosts", 1)[1].splitlines()[1:]
    summary = "\n".join(section[: next(i for i, ln in enumerate(section) if ln.startswith("="))])
    assert summary.count(dead) == 1
    assert "refused" in summary.lower()
    props = junit(pytester)[f"test_soft[{dead}]"]
    assert props["outcome"] == ["error"]


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_failing_check_reads_as_its_message_unless_tb_asks(pytester, suite):
    concise = run(pytester, "-k", "marker", xdist=False)
    concise.stdout.fnmatch_lines(
        ["t.marker: assert None == 'hello\\n'", "test_checks.py:*: check failed"]
    )
    assert "def test_marker" not in concise.stdout.str()
    full = run(pytester, "-k", "marker", "--tb=long", xdist=False)
    assert "def test_marker" in full.stdout.str()
