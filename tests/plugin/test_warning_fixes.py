"""A warning check's fix runs only when asked: under --strict, or when --check names it.

Swap (k8s.swap.off) is the case in point: swap can be deliberate (the kubelet's
LimitedSwap), so a plain --fix leaves it and says why (issue 23, item 18).
"""

from __future__ import annotations

import pytest

from tests.plugin.fixruns import fix_run, junit

CHECKS = """
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

@remediation(strategy="configure", disruption="low")
def create(target):
    return files.write_file(target.conn, SOFT, "present\\n", dry_run=target.dry_run)

@check("t.soft", "only a warning", severity="warning", fix=create)
def test_soft(conn):
    assert conn.run("cat -- %s", SOFT).stdout == "present\\n", "soft file missing"
"""


@pytest.fixture
def soft(pytester: pytest.Pytester, tmp_path):
    path = tmp_path / "soft"
    pytester.makepyfile(test_checks=f"SOFT = {str(path)!r}\n" + CHECKS)
    return path


def test_plain_fix_leaves_a_warning_and_says_why(pytester, soft):
    result = fix_run(pytester)
    assert not soft.exists(), "a plain --fix ran a warning check's fix"
    assert result.ret == 0  # still only a warning
    (case,) = junit(pytester).values()
    assert case["outcome"] == ["warning"]
    (held,) = case["held_back"]
    assert held == (
        "fix not run: t.soft is a warning check; its fix runs only with --strict "
        "or when the check is named (--check t.soft)"
    )
    assert "fix not run: t.soft is a warning check" in result.stdout.str()


def test_dry_run_plans_no_warning_fix_either(pytester, soft):
    result = fix_run(pytester, "--dry-run")
    assert "planned changes" not in result.stdout.str()
    (case,) = junit(pytester).values()
    assert case["held_back"][0].startswith("fix not run: t.soft is a warning check")


@pytest.mark.parametrize("asked", [["--strict"], ["--check", "t.soft"]], ids=["strict", "named"])
def test_fix_of_a_warning_runs_when_asked(pytester, soft, asked):
    result = fix_run(pytester, *asked)
    assert soft.read_text() == "present\n"
    assert result.ret == 0
    (case,) = junit(pytester).values()
    assert case["outcome"] == ["fixed"]


def test_a_glob_does_not_name_a_check(pytester, soft):
    fix_run(pytester, "--check", "t.sof*")
    assert not soft.exists()
    cases = junit(pytester)
    assert [c["outcome"] for c in cases.values()] == [["warning"]]
