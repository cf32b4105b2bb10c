"""sudoers drop-in edits: examples and hypothesis properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.edits import lines
from kit.edits.sudoers import (
    HEADER,
    Rule,
    check_file_name,
    drop_in,
    logical_lines,
    parse,
    parse_rule,
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


@pytest.mark.parametrize(
    "fields",
    [
        {"runas": "root) NOPASSWD: ALL, (root"},
        {"hosts": "ALL=(ALL) NOPASSWD: ALL : ALL"},
        {"commands": "/bin/ls, (root) NOPASSWD: ALL"},
        {"commands": "/bin/ls : ALL = ALL"},
        {"commands": "NOPASSWD: ALL"},
        {"commands": "/bin/ls \\"},
        {"commands": "/bin/ls # x"},
        {"commands": "bin/ls"},
        {"runas": "root:wheel:x"},
        {"runas": "ALL) ALL\nevil ALL=(ALL"},
        {"hosts": "ALL, !"},
        {"hosts": "10.0.0.0/99"},
        {"hosts": "a b"},
        {"commands": "/bin/ls,\x0c/bin/sh"},
        # sudo reads a tag word before a colon as a tag wherever it stands.
        {"runas": "NOPASSWD:ALL"},
        {"runas": "SETENV"},
    ],
)
def test_fields_that_would_change_the_rule_are_refused(fields):
    with pytest.raises(KitValueError):
        rule("deploy", **fields)


def test_each_field_takes_its_whole_grammar():
    line = rule(
        "deploy",
        '/bin/a x\\,y\\:z\\=w, !/bin/b, /usr/bin/, sudoedit /etc/x, CMDS, /bin/d ""',
        runas="root, #0, %wheel, !+ng:grp, #5",
        hosts="h1, !+ng, 10.0.0.0/8, fe80::1, HOSTS",
        nopasswd=True,
    )
    assert parse_rule(line) == Rule(
        "deploy",
        ("h1", "!+ng", "10.0.0.0/8", "fe80::1", "HOSTS"),
        ("root", "#0", "%wheel", "!+ng"),
        ("grp", "#5"),
        ("NOPASSWD",),
        ("/bin/a x\\,y\\:z\\=w", "!/bin/b", "/usr/bin/", "sudoedit /etc/x", "CMDS", '/bin/d ""'),
    )


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
# Mostly sudoers' structural characters, with enough letters to pass for names.
hostile = st.text(
    alphabet=st.sampled_from('aA1/_!%#+:=,()\\" \t\n\r\x0b\x0c\x1c\x85.*NOPASSWDL'), max_size=14
) | st.sampled_from(["ALL", "root", "/bin/ls", "root:wheel", "ALL:ALL", "h1, !h2"])


def _split(text: str, sep: str = ",") -> tuple[str, ...]:
    """The items of a list field, as sudoers splits them: at separators not escaped."""
    items, current, i = [], "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current += text[i : i + 2]
            i += 2
            continue
        if text[i] == sep:
            items.append(current)
            current = ""
        else:
            current += text[i]
        i += 1
    items.append(current)
    return tuple(" ".join(item.split(" ")).strip() for item in items)


@given(hostile, hostile, hostile, st.booleans())
def test_hostile_fields_are_refused_or_make_exactly_that_rule(hosts, runas, commands, nopasswd):
    try:
        line = rule("deploy", commands, runas=runas, hosts=hosts, nopasswd=nopasswd)
    except KitValueError:
        return
    assert len(lines(drop_in(line))) == 2
    users, _, groups = runas.partition(":")
    parsed = parse_rule(line)
    assert parsed is not None
    assert parsed.principal == "deploy"
    assert parsed.hosts == _split(hosts)
    assert parsed.runas_users == (_split(users) if users.strip() else ())
    assert parsed.runas_groups == (_split(groups) if ":" in runas else ())
    assert parsed.tags == (("NOPASSWD",) if nopasswd else ())
    assert parsed.commands == tuple(" ".join(c.split()) for c in _split(commands))
    assert "\n" not in line and not line.rstrip(" \t").endswith("\\")


commands = st.sampled_from(["ALL", "/bin/ls", "/usr/bin/systemctl restart app", "/a, /b"])


@st.composite
def rules(draw):
    return rule(draw(users), draw(commands), nopasswd=draw(st.booleans()))


@st.composite
def sudoers_line(draw):
    kind = draw(st.integers(0, 5))
    if kind == 4:
        return (
            draw(st.sampled_from(["\x0c", "\x0b", "\x1c", "\x85", "\x1c \x85", " \x0c\t"])) + "\n"
        )
    if kind == 5:
        return draw(st.sampled_from(["x \\", "Defaults env_reset \\ ", "%ops ALL=(ALL) \\"])) + "\n"
    if kind == 0:
        return "#" + draw(st.text(alphabet=st.characters(blacklist_characters="\n\\"))) + "\n"
    if kind == 1:
        return draw(st.sampled_from(["", "  ", "\t"])) + "\n"
    if kind == 2:
        return draw(st.sampled_from(["Defaults env_reset", "Defaults:deploy  !requiretty"])) + "\n"
    pad = draw(st.sampled_from(["", " ", "\t"]))
    return pad + draw(rules()).replace(" ", draw(st.sampled_from([" ", "  ", "\t"])), 1) + "\n"


texts = st.lists(sudoers_line(), max_size=8).map("".join) | st.lists(
    sudoers_line(), max_size=8
).map(lambda ls: "".join(ls).removesuffix("\n"))


@pytest.mark.parametrize("blank", ["\x0c", "\x0b", "\x1c", "\x85"])
def test_lines_of_other_whitespace_are_kept(blank):
    out = set_rule(f"{blank}\n", "deploy ALL=(ALL) ALL")
    assert out == f"{blank}\ndeploy ALL=(ALL) ALL\n"


@pytest.mark.parametrize("text", ["x \\", "x \\\n", "%ops ALL=(ALL) \\ \n"])
def test_a_trailing_continuation_does_not_swallow_the_rule(text):
    once = set_rule(text, "deploy ALL=(ALL) ALL")
    assert set_rule(once, "deploy ALL=(ALL) ALL") == once
    assert parse(once)["deploy"] == "ALL=(ALL) ALL"


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
    # Lines a backslash continues belong to the rule they continue, so compare logical lines.
    before = [ln for ln in logical_lines(text) if principal_of(ln) != who]
    after = [ln for ln in logical_lines(set_rule(text, new)) if principal_of(ln) != who]
    # The last line may gain the newline an appended rule needs, and a trailing
    # continuation an empty line that ends it.
    kept = after[: len(before)]
    assert [ln.rstrip("\n") for ln in kept] == [ln.rstrip("\n") for ln in before]
    assert kept[:-1] == before[:-1]
    assert after[len(before) :] in ([], ["\n"])
