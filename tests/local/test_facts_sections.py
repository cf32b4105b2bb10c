"""The facts script cut to some sections (kit.facts.sections), run on this machine and on
a faked Kubernetes node: each section alone says what it says in the whole gather, and
each field parsed from its own sections is the whole gather's."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import kit
from kit.connection.local import LocalConnection
from kit.connection.spec import parse
from kit.facts import Facts, Probes, parse_facts, sections
from kit.facts.gather import gather_facts, raw_facts, script
from kit.facts.parse import split_sections
from kit.plugin.hosts import HostContext
from tests.facts_compare import PROBES_FILES, PROBES_PACKAGES, _differing
from tests.local.fake_node import run_scripts

PROBES = Probes(PROBES_FILES, PROBES_PACKAGES)
# What is gathered alone: each section, and each field's sections together.
ASKED = sorted({frozenset({s}) for s in sections.ALL} | set(sections.FIELDS.values()), key=sorted)


def compare(run: Callable[[list[str]], list[str]]) -> list[str]:
    """What differs between the sections gathered alone and the whole gather, run(texts)
    giving each script's answer. The whole gather runs before and after them: a section
    or a fact the two whole runs disagree on moved by itself and is left out."""
    texts = [script(), *(sections.cut(script(), asked) for asked in ASKED), script()]
    answers = run(texts)
    before, after = answers[0], answers[-1]
    found = []
    whole = [split_sections(before), split_sections(after)]
    old, old_again = parse_facts(before), parse_facts(after)
    for asked, answer in zip(ASKED, answers[1:-1], strict=True):
        alone = split_sections(answer)
        for name in asked:
            if whole[0].get(name) == whole[1].get(name) != alone.get(name):
                found.append(f"section {name} alone: {alone.get(name)!r}")
        fields = sections.fields_of(asked)
        new = parse_facts(answer)
        moved = _differing(old, new, old_again)
        found += [
            f"{sorted(asked)}: {k}: {v}"
            for k, v in moved.items()
            # sysctls[KEY], kernelprep.cgroup: the field's name before the key or part
            if re.split(r"[\[.]", k)[0] in fields
        ]
    return found


def test_each_section_alone_says_what_the_whole_gather_says_here():
    conn = kit.connect("local://")

    def run(texts: list[str]) -> list[str]:
        return [raw_facts(conn, t, probes=PROBES) for t in texts]

    found = compare(run)
    # This machine runs other tests meanwhile: a socket or process of theirs may come and
    # go between the whole gathers. What a cut gets wrong, it gets wrong every time.
    if found:
        found = sorted(set(found) & set(compare(run)))
    assert found == []


def test_each_section_alone_says_what_the_whole_gather_says_on_a_node(tmp_path: Path):
    found = compare(lambda texts: run_scripts(tmp_path, texts))
    assert found == []


def test_an_update_gathers_its_sections_and_keeps_the_rest():
    conn = kit.connect("local://")
    stale = Facts(hostname="stale", timezone="stale/zone")
    fresh = gather_facts(conn, sections=sections.FIELDS["hostname"], onto=stale, probes=PROBES)
    assert fresh.hostname == parse_facts(raw_facts(conn, script())).hostname
    assert fresh.timezone == "stale/zone"
    assert fresh.sysctls and fresh.kernel != "unknown"


class Answering(LocalConnection):
    """A real local connection that keeps the sections of each facts gather's answer."""

    def __init__(self, spec):
        super().__init__(spec)
        self.gathers: list[set[str]] = []

    def _exec(self, cmdline, *, stdin, timeout):
        rc, out, err = super()._exec(cmdline, stdin=stdin, timeout=timeout)
        if "hostkit-facts" in cmdline:
            self.gathers.append(set(split_sections(out.decode())) - {"end"})
        return rc, out, err


def test_a_hosts_context_gathers_a_stale_field_when_it_is_read():
    conn = Answering(parse("local://"))
    ctx = HostContext(parse("local://"), "local://", "local", {}, connector=lambda: conn)
    view = ctx.view()
    assert len(conn.gathers) == 1 and view.os.id != "unknown"
    ctx.wrote()  # nothing is sent until a field is read
    assert len(conn.gathers) == 1
    assert view.os == ctx.view().os and view.os.id != "unknown"
    assert conn.gathers[1:] == [{"os-release"}]
    # The rest, stale still, in one gather; then nothing more.
    assert ctx.facts.sysctls and ctx.facts.timezone
    assert len(conn.gathers) == 3 and conn.gathers[2] >= sections.ALL - {"os-release", "files"}
    assert "os-release" not in conn.gathers[2]
