"""The comparison of two facts scripts' answers (tests/facts_compare.py) sees a change,
and leaves out what moved between the earlier script's two runs."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from types import MappingProxyType

from kit.facts import parse_facts
from tests.facts_compare import differences

DATA = Path(__file__).parent / "data" / "facts"


def test_the_same_facts_differ_in_nothing():
    facts = parse_facts((DATA / "debian12.txt").read_text())
    assert differences(facts, facts, facts) == []


def test_a_fact_the_new_script_changes_is_named():
    old = parse_facts((DATA / "debian12.txt").read_text())
    new = dataclasses.replace(old, timezone="Europe/Berlin")
    assert differences(old, new, old) == ["timezone: 'Etc/UTC', new 'Europe/Berlin'"]


def test_a_fact_that_moved_between_the_old_runs_is_left_out():
    old = parse_facts((DATA / "debian12.txt").read_text())
    moved = dataclasses.replace(old, timezone="Asia/Tokyo")
    new = dataclasses.replace(old, timezone="Europe/Berlin")
    assert differences(old, new, moved) == []


def test_sysctls_are_compared_one_by_one():
    old = parse_facts((DATA / "debian12.txt").read_text())
    again = dataclasses.replace(
        old, sysctls=MappingProxyType({**old.sysctls, "fs.file-nr": "1 0 2"})
    )
    new = dataclasses.replace(
        old, sysctls=MappingProxyType({**old.sysctls, "fs.file-nr": "3 0 2", "vm.swappiness": "1"})
    )
    assert differences(old, new, again) == [
        f"sysctls[vm.swappiness]: {old.sysctls['vm.swappiness']!r}, new '1'"
    ]
