"""Waivers files: parsed and checked in one line per mistake, matched by check and host,
and applied only until they expire."""

from __future__ import annotations

import datetime as dt
import json
import re

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.catalog import describe as catalog
from kit.errors import KitValueError
from kit.plugin import waivers
from kit.plugin.waivers import Waiver, Waivers
from kit.reports import json_report

WHERE = "--waivers w.yaml"
DAY = dt.date(2026, 3, 1)
IDS = st.from_regex(r"[a-z0-9][a-z0-9_.-]{0,20}", fullmatch=True)
HOSTS = st.from_regex(r"[a-z0-9][a-z0-9.-]{0,15}", fullmatch=True)


def readme_example() -> str:
    readme = (catalog.ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Waivers\n", 1)[1].split("\n## ", 1)[0]
    return section.split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_readme_example_loads_and_names_catalog_checks():
    found = waivers.parse(readme_example(), WHERE)
    assert [w.check for w in found] == ["k8s.swap.off", "k8s.port.*"]
    assert found[0].expires == dt.date(2026, 1, 31)
    assert found[1].hosts == ("etcd", "gpu-*") and found[1].expires is None
    ids = [meta.id for meta in catalog.checks(catalog.ROOT / "checks")]
    waivers.validate(Waivers(found, DAY), ids, "README.md")


def test_an_entry_reads_every_key():
    text = "- check: a.b\n  hosts: [n1, g*]\n  justification: '  why\n    not '\n"
    text += "  expires: 2026-01-31\n"
    (only,) = waivers.parse(text, WHERE)
    assert only == Waiver("a.b", "why not", ("n1", "g*"), dt.date(2026, 1, 31), entry=1)


def test_an_empty_file_waives_nothing():
    assert waivers.parse("", WHERE) == ()
    assert waivers.parse("# none yet\n", WHERE) == ()


OK = "- check: a.b\n  justification: known\n"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("- check: [a\n", r"invalid YAML: line 2, column 1: "),
        ("check: a.b\n", r"expected a list of waivers, not a mapping"),
        (OK + "- a.b\n", r"entry 2: expected a mapping"),
        (OK + "- check: a.b\n  justification: x\n  host: [n]\n", r"entry 2: unknown key.*host.*"),
        ("- check: a.b\n", r"entry 1: justification is required"),
        ("- check: a.b\n  justification: '  '\n", r"entry 1: justification is required"),
        ("- justification: why\n", r"entry 1: check must be"),
        ("- check: a.b\n  justification: x\n  hosts: n1\n", r"entry 1: hosts must be a list"),
        (
            "- check: a.b\n  justification: x\n  expires: 2026-02-30\n",
            r"entry 1: expires '2026-02-30' is not a date: day is out of range",
        ),
        (
            "- check: a.b\n  justification: x\n  expires: 31/01/2026\n",
            r"entry 1: expires '31/01/2026' is not a date: give YYYY-MM-DD",
        ),
        (
            "- check: a.b\n  justification: x\n  expires: 20260131\n",
            r"entry 1: expires '20260131' is not a date",
        ),
    ],
)
def test_a_bad_file_is_one_line_naming_the_entry(text, complaint):
    with pytest.raises(KitValueError) as exc:
        waivers.parse(text, WHERE)
    message = str(exc.value)
    assert "\n" not in message
    assert message.startswith(f"{WHERE}: ")
    assert re.search(complaint, message), message


def test_unknown_keys_suggest_the_known_one():
    with pytest.raises(KitValueError, match=r"host \(did you mean 'hosts'\?\)"):
        waivers.parse("- check: a\n  justification: x\n  host: [n]\n", WHERE)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(KitValueError, match=r"^--waivers .*nope\.yaml: no such file$"):
        waivers.load(tmp_path / "nope.yaml", DAY)


def test_a_check_pattern_must_match_the_catalog():
    found = Waivers(waivers.parse(OK + "- check: k8s.swap.of\n  justification: x\n", WHERE))
    with pytest.raises(KitValueError) as exc:
        waivers.validate(found, ["a.b", "k8s.swap.off"], "w.yaml")
    assert str(exc.value) == (
        "--waivers w.yaml: entry 2: check 'k8s.swap.of' matches no check in the catalog "
        "(did you mean 'k8s.swap.off'?)"
    )
    waivers.validate(Waivers(waivers.parse("- {check: 'k8s.*', justification: x}", WHERE)),
                     ["k8s.swap.off"], "w.yaml")  # fmt: skip


@given(IDS, HOSTS, st.lists(HOSTS, max_size=3))
def test_a_waiver_without_hosts_covers_its_check_everywhere(check, host, groups):
    waiver = Waiver(check, "why")
    assert waiver.covers(check, host, groups)
    assert not waiver.covers(check + "x", host, groups)


@given(IDS, HOSTS, HOSTS, st.lists(HOSTS, max_size=3))
def test_hosts_match_by_label_or_group(check, host, other, groups):
    assert Waiver(check, "why", (host,)).covers(check, host, groups)
    assert Waiver(check, "why", (other,)).covers(check, host, [*groups, other])
    named = Waiver(check, "why", (other,))
    assert named.covers(check, host, groups) == (other == host or other in groups)


def test_globs_match_check_ids_and_host_names():
    waiver = Waiver("k8s.port.*", "why", ("gpu-*",))
    assert waiver.covers("k8s.port.free", "gpu-7")
    assert not waiver.covers("k8s.port.free", "cpu-7")
    assert not waiver.covers("k8s.swap.off", "gpu-7")
    assert waiver.covers("k8s.port.owner", "node3", ["gpu-nodes"])
    assert not waiver.covers("k8s.port.owner", None)


@given(st.dates(), st.dates())
def test_a_waiver_applies_through_its_expiry_day(expires, today):
    found = Waivers((Waiver("a.b", "why", expires=expires),), today)
    applies = today <= expires
    assert (found.match("a.b", "h") is not None) == applies
    assert found.expired() == ([] if applies else list(found.entries))


def test_the_first_unexpired_waiver_in_file_order_wins():
    old = Waiver("a.*", "old", expires=dt.date(2026, 2, 28), entry=1)
    first = Waiver("a.b", "first", ("h",), entry=2)
    second = Waiver("a.*", "second", entry=3)
    found = Waivers((old, first, second), DAY)
    assert found.match("a.b", "h") is first
    assert found.match("a.b", "other") is second
    assert found.match("b.a", "h") is None


def test_an_expired_waiver_says_so_in_one_line():
    waiver = Waiver("k8s.swap.off", "why", ("node1",), dt.date(2026, 1, 31))
    assert waiver.expiry_line() == (
        "waiver for k8s.swap.off on node1 expired on 2026-01-31: not applied"
    )
    everywhere = Waiver("k8s.swap.off", "why", (), dt.date(2026, 1, 31))
    assert "on all hosts expired" in everywhere.expiry_line()


def test_entries_in_the_report_follow_its_schema():
    schema = json.loads(json_report.SCHEMA.read_text())
    entry = schema["$defs"]["waiver_entry"]
    waiver = Waiver("a.b", "why", ("h",), dt.date(2026, 1, 31))
    written = waiver.to_dict(DAY)
    assert set(written) == set(entry["required"]) == set(entry["properties"])
    assert written["expired"] is True
    validator = jsonschema.Draft202012Validator(
        {**entry, "$defs": schema["$defs"]}, format_checker=jsonschema.FormatChecker()
    )
    validator.validate(written)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({**written, "justification": ""})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("justification", "accepted \x1b[2J\x1b[31mby nobody"),
        ("justification", "accepted \u202eevil"),
        ("check", "a.\x1bb"),
        ("hosts", ["node\x07"]),
    ],
    ids=["escape-in-justification", "bidi-override", "escape-in-check", "bell-in-hosts"],
)
def test_control_characters_that_would_reach_the_terminal_are_refused(field, value):
    entry = {"check": "a.b", "justification": "known", field: value}
    with pytest.raises(KitValueError) as exc:
        waivers.parse(json.dumps([entry]), WHERE)
    message = str(exc.value)
    assert message.startswith(f"{WHERE}: entry 1: {field} holds a control character U+")
    assert not any(ord(c) < 32 or c == "\u202e" for c in message), repr(message)
