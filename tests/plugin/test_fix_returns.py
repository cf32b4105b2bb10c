"""A remediation that returns something other than a Change fails saying what it returned,
not `None`: the author reads what to fix in their remediation."""

from __future__ import annotations

import pytest

from tests.plugin.fixruns import fix_run, junit

CHECKS = r"""
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner.change import Change

class Loud:
    def __repr__(self):
        return "Loud(\033]0;pwned\007)"

RETURNS = {
    "text": "done",
    "number": 42,
    "mixed": [Change.none("fine"), "and a string"],
    "loud": Loud(),
}

def _returning(name):
    @remediation(strategy="configure", disruption="low")
    def fix(target):
        return RETURNS[name]
    fix.__name__ = fix.__qualname__ = f"returns_{name}"
    return fix

for _name in RETURNS:
    @check(f"t.{_name}", "a remediation returning the wrong thing", fix=_returning(_name))
    def _test(conn):
        assert False, "still wrong"
    globals()[f"test_{_name}"] = _test
"""


@pytest.mark.parametrize(
    "name,said",
    [
        ("text", "returned str 'done', not a Change"),
        ("number", "returned int 42, not a Change"),
        ("mixed", "returned a list holding str 'and a string', not a Change"),
        ("loud", "returned Loud Loud(\\x1b]0;pwned\\x07), not a Change"),
    ],
)
def test_a_remediation_returning_no_change_says_what_it_returned(pytester, name, said):
    pytester.makepyfile(test_checks=CHECKS)
    result = fix_run(pytester, "-k", f"test_{name}")
    assert result.ret == 1
    expected = f"fix failed at its first step: remediation test_checks.returns_{name} {said}"
    result.stdout.fnmatch_lines([f"*{expected}; host unchanged*"])
    assert "None; host unchanged" not in result.stdout.str()
    (props,) = junit(pytester).values()
    assert props["outcome"] == ["error"]
    assert f"remediation test_checks.returns_{name} returned" in props["fix_failed"][0]
