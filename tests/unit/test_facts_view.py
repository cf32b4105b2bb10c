"""A check's `facts`: a Facts that records which fields it read, each read answered by its
source (the host's context, which gathers again a field a write made stale)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kit.facts import Facts, parse_facts
from kit.facts.view import FactsView, reads_of

DATA = Path(__file__).parent / "data" / "facts"


class Source:
    """What a host's context gives a view: each field's current value, asked by name."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.asked: list[str] = []

    def fact(self, name: str) -> object:
        self.asked.append(name)
        return getattr(self.facts, name)


def test_a_view_is_a_facts_and_records_the_fields_read():
    facts = parse_facts((DATA / "debian12.txt").read_text())
    source = Source(facts)
    view = FactsView(source)
    assert isinstance(view, Facts)
    assert reads_of(view) == frozenset()
    assert view.sysctls["net.ipv4.tcp_rmem"] == "4096 131072 33554432"
    assert view.has("ip") and view.require("os.id") == "debian"
    assert reads_of(view) == {"sysctls", "executables", "os"}
    # Every read goes to the source: a field made stale there is answered fresh.
    source.facts = dataclasses.replace(facts, hostname="other")
    assert view.hostname == "other"
    assert source.asked[-1] == "hostname"


def test_a_view_compares_and_copies_as_the_facts_it_shows():
    facts = parse_facts((DATA / "rocky9.txt").read_text())
    view = FactsView(Source(facts))
    assert view == facts
    copied = dataclasses.replace(view, hostname="changed")
    assert type(copied) is Facts
    assert copied.hostname == "changed" and copied.os == facts.os


def test_a_views_repr_reads_no_field():
    """pytest shows a failing assertion's operands: that is not the check reading them."""
    source = Source(Facts())
    view = FactsView(source)
    view.os  # noqa: B018
    assert repr(view) == "<facts of Source, read: os>"
    assert reads_of(view) == {"os"} and source.asked == ["os"]


def test_plain_facts_have_no_record():
    assert reads_of(Facts()) is None
    assert reads_of(None) is None
