"""`Key value` files read and edited as sshd reads sshd_config."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.edits import keyvalue, lines
from kit.errors import KitValueError

SSHD = {"sep": " ", "fold_case": True, "until": "Match"}


def test_blank_separated_line_is_rewritten_in_place():
    text = "# sshd\nPort 22\nPermitRootLogin \t yes\nUsePAM yes\n"
    out = keyvalue.set_value(text, "PermitRootLogin", "no", sep=" ")
    assert out == "# sshd\nPort 22\nPermitRootLogin no\nUsePAM yes\n"


def test_first_occurrence_is_the_one_read_and_kept():
    # sshd_config(5): the first obtained value is used, so a later line is inert.
    text = "permitrootlogin no\nPermitRootLogin yes\n"
    assert keyvalue.value_of(text, "PermitRootLogin", **SSHD) == "no"
    assert keyvalue.set_value(text, "PermitRootLogin", "no", **SSHD) == "permitrootlogin no\n"


def test_keys_differing_in_case_are_distinct_without_fold_case():
    text = "permitrootlogin yes\n"
    out = keyvalue.set_value(text, "PermitRootLogin", "no", sep=" ")
    assert out == "permitrootlogin yes\nPermitRootLogin no\n"


def test_match_blocks_are_left_alone_and_a_new_line_goes_before_them():
    text = "Port 22\nMatch User backup\n  PermitRootLogin yes\n"
    out = keyvalue.set_value(text, "PermitRootLogin", "no", **SSHD)
    assert out == "Port 22\nPermitRootLogin no\nMatch User backup\n  PermitRootLogin yes\n"
    assert keyvalue.value_of(text, "PermitRootLogin", **SSHD) is None


@pytest.mark.parametrize(("key", "value"), [("Permit Root", "no"), ("X", ""), ("X", " no")])
def test_blank_separator_refuses_what_it_cannot_write(key, value):
    with pytest.raises(KitValueError):
        keyvalue.set_value("", key, value, sep=" ")


KEYS = st.sampled_from(["PermitRootLogin", "permitrootlogin", "Port", "UsePAM"])
VALUES = st.text(st.sampled_from("ab no#=\t"), min_size=1, max_size=8).map(str.strip).filter(bool)
BLANKS = st.text(st.sampled_from(" \t"), min_size=1, max_size=3)
ANY_LINE = st.text(st.characters(blacklist_characters="\n", codec="utf-8"), max_size=30)


@st.composite
def sshd_configs(draw):
    setting = st.tuples(st.sampled_from(["", " ", "\t"]), KEYS, BLANKS, VALUES).map("".join)
    match = st.sampled_from(["Match User x", "match all", "Match Address 10.0.0.0/8"])
    body = draw(st.lists(st.one_of(setting, ANY_LINE, match, st.just("#PermitRootLogin yes"))))
    text = "\n".join(body)
    return text + draw(st.sampled_from(["", "\n"])) if text else text


@given(sshd_configs(), KEYS, VALUES, st.booleans())
def test_set_value_blank_keeps_other_lines_and_is_idempotent(text, key, value, fold):
    opts = {"sep": " ", "fold_case": fold, "until": "Match" if fold else None}
    once = keyvalue.set_value(text, key, value, **opts)
    assert keyvalue.set_value(once, key, value, **opts) == once
    assert keyvalue.value_of(once, key, **opts) == value

    def others(t):
        kept = []
        for line in lines(t):
            kv = keyvalue.parse_line(line, sep=" ")
            if kv is not None and opts["until"] and kv[0].lower() == "match":
                break  # past Match, every line must survive: compared below
            if kv is None or (kv[0].lower() != key.lower() if fold else kv[0] != key):
                kept.append(line.rstrip("\n"))
        return kept

    def tail(t):
        # The lines from the first Match on, byte for byte.
        out = lines(t)
        for i, line in enumerate(out):
            kv = keyvalue.parse_line(line, sep=" ")
            if kv is not None and opts["until"] and kv[0].lower() == "match":
                return "".join(out[i:])
        return ""

    assert others(once) == others(text)
    assert tail(once) == tail(text)
