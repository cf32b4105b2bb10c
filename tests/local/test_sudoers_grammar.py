"""sudoers rules as sudo itself parses them (cvtsudoers), not only as the kit reads them."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kit.edits.sudoers import drop_in, rule
from kit.errors import KitValueError

pytestmark = pytest.mark.skipif(shutil.which("cvtsudoers") is None, reason="needs cvtsudoers")

ISSUE_CASES = [
    {"runas": "root) NOPASSWD: ALL, (root"},
    {"hosts": "ALL=(ALL) NOPASSWD: ALL : ALL"},
]


def sudo_parse(text: str) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rules"
        path.write_text(text)
        out = subprocess.run(
            ["cvtsudoers", "-f", "json", str(path)], capture_output=True, text=True, check=False
        )
    if out.returncode != 0:
        raise AssertionError(f"sudo cannot parse {text!r}: {out.stderr}")
    return json.loads(out.stdout).get("User_Specs", [])


_PREFIX = {"usergroup": "%", "usergid": "%#", "userid": "#", "netgroup": "+"}


def _word(entry: dict, *, groups: bool = False) -> str:
    """An entry of cvtsudoers' JSON written back as sudoers spells it."""
    kind, value = next((k, v) for k, v in entry.items() if k != "negated")
    prefix = "" if groups and kind == "usergroup" else _PREFIX.get(kind, "")
    return "!" * bool(entry.get("negated")) + prefix + str(value)


def _items(text: str) -> list[str]:
    """A list field's items: split at commas that are not escaped, escapes resolved."""
    items, current, i = [], "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current += text[i + 1]
            i += 2
            continue
        if text[i] == ",":
            items.append(current)
            current = ""
        else:
            current += text[i]
        i += 1
    items.append(current)
    return [" ".join(item.split()) for item in items]


@pytest.mark.parametrize("fields", ISSUE_CASES)
def test_the_fields_that_granted_everything_are_refused(fields):
    with pytest.raises(KitValueError):
        rule("deploy", "/usr/bin/true", **fields)


TOKENS = [
    "ALL", "root", "%wheel", "%#0", "#0", "+ng", "HOSTS", "h1", "10.0.0.0/8", "fe80::1",
    "/bin/ls", "/usr/bin/", "sudoedit", "-l", "x", '""', "!", "NOPASSWD:", "(", ")", ":",
    "=", ",", "\\,", "\\:", "\\=", "\\\\", "\\", "#", "*", "CWD", "TIMEOUT", "list",
    "Defaults", "User_Alias",
]  # fmt: skip
hostile = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=6).flatmap(
    lambda ts: st.sampled_from(["", " ", ", "]).map(lambda sep: sep.join(ts))
) | st.text(alphabet=st.sampled_from('aA1/_!%#+:=,()\\" \t.*NOPASSWDL'), min_size=1, max_size=14)


VALID = {
    "hosts": st.sampled_from(["ALL", "h1, !h2", "10.0.0.0/8"]),
    "runas": st.sampled_from(["ALL", "root", "ALL:ALL", ":wheel", "root, #0"]),
    "commands": st.sampled_from(["ALL", "/bin/ls -l", "/bin/a, !/bin/b"]),
}


@st.composite
def fields(draw):
    """One hostile field and valid others (three hostile ones are nearly always refused)."""
    chosen = {name: draw(valid) for name, valid in VALID.items()}
    chosen[draw(st.sampled_from(sorted(VALID)))] = draw(hostile)
    return chosen


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields(), st.booleans())
def test_sudo_reads_exactly_the_rule_that_was_asked(chosen, nopasswd):
    hosts, runas, commands = chosen["hosts"], chosen["runas"], chosen["commands"]
    try:
        line = rule("deploy", commands, runas=runas, hosts=hosts, nopasswd=nopasswd)
    except KitValueError:
        return
    specs = sudo_parse(drop_in(line))
    assert len(specs) == 1
    spec = specs[0]
    assert spec["User_List"] == [{"username": "deploy"}]
    assert [_word(h) for h in spec["Host_List"]] == _items(hosts)
    assert len(spec["Cmnd_Specs"]) == 1
    cmnd = spec["Cmnd_Specs"][0]
    users, colon, groups = runas.partition(":")
    assert [_word(u) for u in cmnd.get("runasusers", [])] == (
        _items(users) if users.strip() else []
    )
    assert [_word(g, groups=True) for g in cmnd.get("runasgroups", [])] == (
        _items(groups) if colon else []
    )
    options = {k: v for o in cmnd.get("Options", []) for k, v in o.items()}
    assert options.get("authenticate", True) is not nopasswd
    # sudo implies SETENV for the command ALL; no other option may appear.
    implied = {"setenv"} if "ALL" in _items(commands) else set()
    assert set(options) - {"authenticate"} <= implied
    assert [_word(c) for c in cmnd["Commands"]] == _items(commands)
