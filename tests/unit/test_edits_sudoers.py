"""sudoers drop-in edits: examples and hypothesis properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.edits import lines
from kit.edits.sudoers import (
    HEADER,
    check_file_name,
    drop_in,
    parse,
    principal_of,
    rule,
    set_rule,
)
from kit.errors import KitValueError


def test_rule_and_drop_in():
    line = rule("deploy", "/usr/bin/systemctl restart app", nopasswd=True)
    assert line == "deploy ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart app"
    assert drop_in(line, rule("%ops")) == HEADER + line + "\n%ops ALL=(ALL) ALL\n"


@pytest.mark.parametrize("name", ["ops.conf", "x~", "a/b", "", "a b", "../etc"])
def test_file_names_sudo_would_ignore_or_escape_are_refused(name):
    with pytest.raises(KitValueError):
        check_file_name(name)


@pytest.mark.parametrize("principal", ["root;", "Bad", "a b", "%", "-x", "%g\n"])
def test_bad_principals_are_refused(principal):
    with pytest.raises(KitValueError):
        rule(principal)


def test_commands_with_a_newline_are_refused():
    with pytest.raises(KitValueError):
        rule("deploy", "ALL\nevil ALL=(ALL) ALL")


def test_set_rule_replaces_the_principal_line_and_keeps_the_rest():
    text = "Defaults env_reset\n# ops\ndeploy ALL=(ALL) ALL\n%ops ALL=(ALL) ALL\n"
    out = set_rule(text, "deploy ALL=(ALL) NOPASSWD: ALL")
    assert out == "Defaults env_reset\n# ops\ndeploy ALL=(ALL) NOPASSWD: ALL\n%ops ALL=(ALL) ALL\n"


def test_continued_rule_is_one_target():
    text = "deploy ALL=(ALL) \\\n  /bin/true\n# end\n"
    assert parse(text) == {"deploy": "ALL=(ALL) /bin/true"}
    assert set_rule(text, "deploy ALL=(ALL) ALL") == "deploy ALL=(ALL) ALL\n# end\n"


def test_includes_and_defaults_are_not_rules():
    assert principal_of("#includedir /etc/sudoers.d\n") is None
    assert principal_of("@includedir /etc/sudoers.d\n") is None
    assert principal_of("Defaults:deploy !requiretty\n") is None
    assert principal_of("Cmnd_Alias X = /bin/ls\n") is None


# -- properties ----------------------------------------------------------------

users = st.from_regex(r"%?[a-z_][a-z0-9_-]{0,8}", fullmatch=True)
commands = st.sampled_from(["ALL", "/bin/ls", "/usr/bin/systemctl restart app", "/a, /b"])


@st.composite
def rules(draw):
    return rule(draw(users), draw(commands), nopasswd=draw(st.booleans()))


@st.composite
def sudoers_line(draw):
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return "#" + draw(st.text(alphabet=st.characters(blacklist_characters="\n\\"))) + "\n"
    if kind == 1:
        return draw(st.sampled_from(["", "  ", "\t"])) + "\n"
    if kind == 2:
        return draw(st.sampled_from(["Defaults env_reset", "Defaults:deploy  !requiretty"])) + "\n"
    pad = draw(st.sampled_from(["", " ", "\t"]))
    return pad + draw(rules()).replace(" ", draw(st.sampled_from([" ", "  ", "\t"])), 1) + "\n"


texts = st.lists(sudoers_line(), max_size=8).map("".join)


@given(texts, rules())
def test_applying_twice_equals_once(text, new):
    once = set_rule(text, new)
    assert set_rule(once, new) == once


@given(texts, rules())
def test_result_parses_back(text, new):
    who, rest = new.split(None, 1)
    assert parse(set_rule(text, new))[who] == " ".join(rest.split())


@given(texts, rules())
def test_other_lines_survive_byte_for_byte(text, new):
    who = principal_of(new)
    before = [ln for ln in lines(text) if principal_of(ln) != who]
    after = [ln for ln in lines(set_rule(text, new)) if principal_of(ln) != who]
    assert after == before
