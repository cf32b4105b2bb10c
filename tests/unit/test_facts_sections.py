"""The facts script cut to some of its sections, and what a partial answer updates: the
table of which sections each Facts field comes from, checked on recorded answers."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from kit.errors import KitValueError
from kit.facts import Facts, parse_facts, sections
from kit.facts.gather import script
from kit.facts.parse import parse_update, split_sections

DATA = Path(__file__).parent / "data" / "facts"
RECORDED = sorted(p.stem for p in DATA.glob("*.txt"))
FIELDS = [f.name for f in dataclasses.fields(Facts)]


def only(raw: str, names: frozenset[str]) -> str:
    """The recorded answer with only the named sections left."""
    kept = {k: v for k, v in split_sections(raw).items() if k in names}
    return "".join(f"\n@@hostkit:{k}\n{v}\n" for k, v in kept.items())


def test_every_field_has_its_sections_and_they_are_the_scripts():
    assert set(sections.FIELDS) == set(FIELDS)
    printed = set(re.findall(r"^\s*[sb] ([a-z0-9-]+)$", script(), re.MULTILINE))
    printed |= {f"net-{p}" for p in ("tcp", "tcp6", "udp", "udp6")}  # printed by a loop
    for name, wanted in sections.FIELDS.items():
        assert wanted and wanted <= sections.ALL, name
        assert wanted <= printed, (name, wanted - printed)
    # Every section the script prints is one a marker declares.
    assert printed - {"end"} <= sections.ALL, printed - sections.ALL


@pytest.mark.parametrize("recorded", RECORDED)
def test_each_field_parses_the_same_from_its_sections_alone(recorded):
    raw = (DATA / f"{recorded}.txt").read_text()
    whole = parse_facts(raw)
    for name in FIELDS:
        alone = parse_facts(only(raw, sections.FIELDS[name]))
        assert getattr(alone, name) == getattr(whole, name), name


def test_a_partial_answer_updates_only_the_fields_of_its_sections():
    old = parse_facts((DATA / "debian12.txt").read_text())
    raw = (DATA / "rocky9.txt").read_text()
    new = parse_facts(raw)
    wanted = sections.FIELDS["os"] | sections.FIELDS["sysctls"]
    updated = parse_update(old, only(raw, wanted), wanted)
    assert type(updated) is Facts
    changed = {n for n in FIELDS if getattr(updated, n) != getattr(old, n)}
    assert updated.os == new.os and updated.sysctls == new.sysctls
    # The fields of those sections only (kernel, hostname and boot id read /proc/sys too).
    assert changed <= sections.fields_of(wanted)
    assert {"os", "sysctls", "kernel"} <= changed
    assert updated.executables == old.executables


def test_fields_of_a_set_of_sections_need_nothing_else():
    got = sections.fields_of(sections.FIELDS["firewall"])
    assert "firewall" in got and "executables" in got
    assert "runtime" not in got
    assert sections.fields_of(frozenset()) == frozenset()


def test_sections_of_fields_and_unknown_names():
    assert sections.sections_of({"sysctls", "os"}) == (
        sections.FIELDS["sysctls"] | sections.FIELDS["os"]
    )
    # A name the table does not know: everything, the safe answer.
    assert sections.sections_of({"no_such_field"}) == sections.ALL


def test_the_cut_script_keeps_the_prelude_and_what_the_sections_need():
    text = sections.cut(script(), {"timezone"})
    assert "s timezone" in text and "s os-release" not in text
    # The prelude's helpers, and where /etc/localtime leads, which the section prints.
    assert "\ns() {" in text and "\ncanon() {" in text
    # Only what the links' targets need: not the network links (a section so named).
    assert "s links" not in text
    assert "s boot-files" not in text and text.rstrip().endswith("s end")


def test_cutting_every_section_is_the_whole_script():
    assert sections.cut(script(), sections.ALL) == script()


@pytest.mark.parametrize("bad", [{"no-such-section"}, {"os-release", "os-release; rm -rf /"}])
def test_unknown_sections_are_refused_naming_them(bad):
    with pytest.raises(KitValueError, match=r"no-such-section|rm -rf"):
        sections.cut(script(), bad)


def test_a_marker_needing_what_no_marker_names_is_refused():
    text = "P=1\n#@section a needs b\ns a\n#@section end\ns end\n"
    with pytest.raises(KitValueError, match="'b'"):
        sections.cut(text, {"a"})


def test_a_state_named_as_another_part_is_refused():
    """A state sharing a section's name would have every part needing it pull in the
    section too."""
    text = "#@section links\ns links\n#@state links\nL=1\n#@section a needs links\ns a\n"
    with pytest.raises(KitValueError, match="'links'"):
        sections.cut(text + "#@section end\ns end\n", {"a"})
