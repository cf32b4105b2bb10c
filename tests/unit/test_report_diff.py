"""kit/reports/diff.py over report documents built here: which cells changed, in what
order they are listed, and whether the run got worse. The real reports of two runs are
tests/local/test_report_diff.py's."""

from __future__ import annotations

import json
from typing import Any

from kit.reports import diff


def doc(*cells: tuple[str, str, str], params: dict[str, str] | None = None) -> dict[str, Any]:
    """A --report-json document holding one result per (host, check, outcome)."""
    hosts = sorted({h for h, _, _ in cells})
    results = [
        {"host": h, "check": c, "test": f"t::{c}[{h}]", "outcome": o, "params": params or {}}
        for h, c, o in cells
    ]
    return {"hosts": [{"name": h} for h in hosts], "results": results}


def kinds(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str, str, Any, Any]]:
    return [(c.kind, c.host, c.check, c.old, c.new) for c in diff.changes(old, new)]


def test_the_same_report_has_no_changes_and_is_not_worse():
    same = doc(("a", "k.one", "passed"), ("a", "k.two", "failed"))
    assert diff.changes(same, same) == []
    assert not diff.worse([])


def test_new_failures_come_first_then_errors_then_fixes_then_the_rest():
    old = doc(
        ("a", "k.fix", "failed"),
        ("a", "k.err", "passed"),
        ("a", "k.skip", "passed"),
        ("b", "k.fail", "passed"),
        ("a", "k.gone", "passed"),
    )
    new = doc(
        ("a", "k.fix", "passed"),
        ("a", "k.err", "error"),
        ("a", "k.skip", "skipped"),
        ("b", "k.fail", "failed"),
        ("a", "k.new", "passed"),
    )
    assert kinds(old, new) == [
        ("failed", "b", "k.fail", "passed", "failed"),
        ("error", "a", "k.err", "passed", "error"),
        ("fixed", "a", "k.fix", "failed", "passed"),
        ("changed", "a", "k.skip", "passed", "skipped"),
        ("appeared", "a", "k.new", None, "passed"),
        ("disappeared", "a", "k.gone", "passed", None),
    ]
    assert diff.worse(diff.changes(old, new))


def test_a_check_that_appears_failing_is_a_new_failure():
    old = doc(("a", "k.one", "passed"))
    new = doc(("a", "k.one", "passed"), ("a", "k.two", "failed"))
    assert kinds(old, new) == [("failed", "a", "k.two", None, "failed")]
    assert diff.worse(diff.changes(old, new))


def test_fixes_and_disappearances_alone_are_not_worse():
    old = doc(("a", "k.one", "failed"), ("b", "k.one", "passed"))
    new = doc(("a", "k.one", "fixed"))
    found = diff.changes(old, new)
    assert [(c.kind, c.host, c.check) for c in found] == [
        ("fixed", "a", "k.one"),
        ("disappeared", "b", ""),
    ]
    assert not diff.worse(found)


def test_a_failure_turning_to_an_error_is_a_change_not_a_new_failure():
    found = diff.changes(doc(("a", "k.one", "failed")), doc(("a", "k.one", "error")))
    assert [(c.kind, c.old, c.new) for c in found] == [("changed", "failed", "error")]
    assert not diff.worse(found)


def test_an_unreachable_host_is_an_error():
    found = diff.changes(doc(("a", "k.one", "passed")), doc(("a", "k.one", "unreachable")))
    assert [(c.kind, c.new) for c in found] == [("error", "unreachable")]
    assert diff.worse(found)


def test_a_host_gone_is_one_line_not_one_per_check():
    old = doc(("a", "k.one", "passed"), ("a", "k.two", "failed"), ("b", "k.one", "passed"))
    new = doc(("b", "k.one", "passed"))
    assert kinds(old, new) == [("disappeared", "a", "", "2 results", None)]


def test_the_parameters_tell_cells_of_one_check_apart():
    old, new = doc(), doc()
    for value, outcome in (("1", "passed"), ("0", "failed")):
        old["results"] += doc(("a", "k.sysctl", "passed"), params={"key": value})["results"]
        new["results"] += doc(("a", "k.sysctl", outcome), params={"key": value})["results"]
    assert kinds(old, new) == [("failed", "a", "k.sysctl[key=0]", "passed", "failed")]


def test_several_results_of_one_cell_count_as_the_worst():
    old = doc(("a", "k.one", "passed"))
    new = doc(("a", "k.one", "passed"), ("a", "k.one", "error"))
    assert kinds(old, new) == [("error", "a", "k.one", "passed", "error")]


def test_lines_escape_what_a_report_holds_and_show_old_and_new():
    new = doc(("a\x1b[2J", "k.one", "failed"))
    (line,) = diff.lines(diff.changes(doc(("a\x1b[2J", "k.one", "passed")), new))
    assert "\x1b" not in line and "a\\x1b[2J" in line
    assert line.split() == ["failed", "a\\x1b[2J", "k.one", "passed", "->", "failed"]


def test_json_lists_each_change_and_the_verdict():
    old, new = doc(("a", "k.one", "passed")), doc(("a", "k.one", "failed"))
    loaded = json.loads(diff.to_json(diff.changes(old, new)))
    assert loaded == {
        "worse": True,
        "changes": [
            {"kind": "failed", "host": "a", "check": "k.one", "old": "passed", "new": "failed"}
        ],
    }
