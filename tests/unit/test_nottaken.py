"""Reading back which fixes did not take, from run records a compromised host may have
written: only well-formed notes count, the last one for a check and its parameters wins,
and what is kept is bounded."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from kit.runner.nottaken import NotTaken, params_key, parse

SEP = "\x1e"


def run(name: str, *entries: object) -> str:
    lines = [e if isinstance(e, str) else json.dumps(e) for e in entries]
    return f"{SEP}{name}\n" + "".join(line + "\n" for line in lines)


def note(check: str, params: str, passed: bool, error: str = "still off") -> dict[str, object]:
    entry: dict[str, object] = {"event": "recheck", "check": check, "params": params}
    entry["passed"] = passed
    return {**entry, "error": error} if not passed else entry


def test_the_last_note_for_a_check_and_its_parameters_counts():
    text = (
        run("r1", note("t.a", "p1", False, "first"), note("t.a", "p2", False))
        + run("r2", note("t.a", "p1", True))
        + run("r3", note("t.b", "p1", False, "b off"))
    )
    assert parse(text) == {
        ("t.a", "p2"): NotTaken("r1", "still off"),
        ("t.b", "p1"): NotTaken("r3", "b off"),
    }


def test_malformed_lines_and_fields_of_the_wrong_type_are_ignored():
    text = run(
        "r1",
        "{not json",
        '"a string"',
        json.dumps({"event": "recheck", "check": 5, "params": "p", "passed": False}),
        json.dumps({"event": "recheck", "check": "t.a", "params": ["p"], "passed": False}),
        json.dumps({"event": "recheck", "check": "t.a", "params": "p", "passed": "no"}),
        json.dumps(
            {"event": "recheck", "check": "t.c", "params": "p", "passed": False, "error": 7}
        ),
        json.dumps({"seq": 1, "state": "begin", "check": "t.a", "op": "x"}),
    )
    assert parse(text) == {("t.c", "p"): NotTaken("r1", "")}


def test_what_is_kept_is_bounded():
    text = run("r" * 10_000, note("t.a", "p", False, "e" * 100_000))
    (kept,) = parse(text).values()
    assert len(kept.run) <= 200 and len(kept.error) <= 300


@given(st.text())
def test_any_output_parses_without_raising(text):
    parse(text)


def test_parameters_key_is_stable_and_tells_hosts_and_parameters_apart():
    assert params_key("h1", {"key": "a", "value": 1}) == params_key("h1", {"value": 1, "key": "a"})
    assert params_key("h1", {"key": "a"}) != params_key("h1", {"key": "b"})
    assert params_key("h1", {}) != params_key("h2", {})
