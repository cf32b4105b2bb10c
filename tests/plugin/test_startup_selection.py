"""--check and --skip-check choose checks by id (globs) within the profile; a pattern that
matches no check is a usage error in one line, serial or under xdist."""

from __future__ import annotations

import re

import pytest

from kit.plugin.outcomes import EXIT_USAGE

CHECKS = """
from kit.catalog.check import check

@check("net.alpha", "first")
def test_alpha(conn):
    pass

@check("net.beta", "second")
def test_beta(conn):
    pass

@check("sys.gamma", "third")
def test_gamma(conn):
    pass

def test_plain(host):
    pass
"""

PROFILE = """
name: some
checks:
  - net.*
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=CHECKS)


def ran(result: pytest.RunResult) -> set[str]:
    """The tests that passed, from the -v lines, serial or xdist."""
    pattern = r"test_checks\.py::(test_\w+)\S* PASSED|PASSED test_checks\.py::(test_\w+)"
    return {a or b for a, b in re.findall(pattern, result.stdout.str())}


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v", *args)


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_check_globs_select(pytester, suite, xdist):
    result = run(pytester, "--check=net.*", *(["-n", "2"] if xdist else []))
    assert result.ret == 0
    assert ran(result) == {"test_alpha", "test_beta"}


def test_check_list_and_repeats(pytester, suite):
    result = run(pytester, "--check=net.alpha,sys.gamma", "--check", "net.beta")
    assert ran(result) == {"test_alpha", "test_beta", "test_gamma"}


def test_skip_check_leaves_out(pytester, suite):
    result = run(pytester, "--skip-check=net.b*")
    assert ran(result) == {"test_alpha", "test_gamma", "test_plain"}


def test_check_and_k_combine(pytester, suite):
    result = run(pytester, "--check=net.*", "-k", "not alpha")
    assert ran(result) == {"test_beta"}


def test_check_stays_within_the_profile(pytester, suite):
    # A profile is validated against the checks beside its profiles/ directory.
    profile = pytester.mkdir("profiles") / "some.yaml"
    profile.write_text(PROFILE)
    result = run(pytester, f"--profile={profile}", "--check=*a")
    assert ran(result) == {"test_alpha", "test_beta"}


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_pattern_matching_nothing_is_a_usage_error(pytester, suite, xdist):
    result = run(pytester, "--check=net.alfa", *(["-n", "2"] if xdist else []))
    assert result.ret == EXIT_USAGE, result.stdout.str()
    assert ran(result) == set()
    everything = result.stdout.str() + result.stderr.str()
    message = "ERROR: --check net.alfa: matches no check (did you mean net.alpha"
    assert everything.count(message) == 1, everything
    assert "INTERNALERROR" not in everything and "Traceback" not in everything


def test_skip_pattern_matching_nothing_is_a_usage_error(pytester, suite):
    result = run(pytester, "--skip-check=zzz")
    assert result.ret == EXIT_USAGE
    assert "ERROR: --skip-check zzz: matches no check" in result.stderr.str()
