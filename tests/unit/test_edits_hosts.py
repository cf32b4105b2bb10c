"""/etc/hosts edits: examples and hypothesis properties."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.edits import decode, encode, lines
from kit.edits.hosts import parse, parse_line, set_entry
from kit.errors import KitValueError

DEBIAN = (
    "127.0.0.1\tlocalhost\n"
    "127.0.1.1\tnode1.example.com\tnode1\n"
    "\n"
    "# The following lines are desirable for IPv6 capable hosts\n"
    "::1     localhost ip6-localhost ip6-loopback\n"
    "ff02::1 ip6-allnodes\n"
)


def test_new_address_is_appended_and_the_rest_is_untouched():
    out = set_entry(DEBIAN, "10.0.0.5", "db.example.com", "db")
    assert out == DEBIAN + "10.0.0.5\tdb.example.com db\n"


def test_same_address_with_new_names_is_updated_not_duplicated():
    out = set_entry(DEBIAN, "127.0.1.1", "node2.example.com", "node2")
    assert out.count("127.0.1.1") == 1
    assert parse(out)["127.0.1.1"] == ("node2.example.com", "node2")
    assert out.replace("127.0.1.1\tnode2.example.com node2\n", "") == DEBIAN.replace(
        "127.0.1.1\tnode1.example.com\tnode1\n", ""
    )


def test_existing_entry_is_kept_byte_for_byte():
    text = "10.0.0.5   db.example.com    db   # primary\n"
    assert set_entry(text, "10.0.0.5", "db.example.com", "db") == text


def test_comment_on_an_updated_line_survives():
    out = set_entry("10.0.0.5 old # primary\n", "10.0.0.5", "new")
    assert out == "10.0.0.5\tnew\t# primary\n"


def test_later_duplicates_of_the_address_are_dropped():
    text = "10.0.0.5 a\n# keep\n10.0.0.5 b\n"
    assert set_entry(text, "10.0.0.5", "c") == "10.0.0.5\tc\n# keep\n"


def test_addresses_compare_by_value_not_spelling():
    out = set_entry("0:0::1 localhost\n", "::1", "localhost")
    assert out == "0:0::1 localhost\n"


def test_missing_final_newline_is_handled():
    assert set_entry("127.0.0.1 localhost", "10.0.0.1", "a") == "127.0.0.1 localhost\n10.0.0.1\ta\n"


@pytest.mark.parametrize(
    "ip,names",
    [
        ("10.0.0.300", ("a",)),
        ("x", ("a",)),
        ("10.0.0.1", ()),
        ("10.0.0.1", ("a b",)),
        ("10.0.0.1", ("a#b",)),
        ("10.0.0.1", ("",)),
        ("fe80::1%x\n10.6.6.6 evil.example", ("a",)),
        ("fe80::1%eth0 evil", ("a",)),
        ("fe80::1%a#b", ("a",)),
        ("10.0.0.1", ("a\nb",)),
        ("10.0.0.1", ("a\x0bb",)),
        ("10.0.0.1", ("-a",)),
        ("10.0.0.1", ("a..b",)),
        ("10.0.0.1", ("a_b",)),
        ("10.0.0.1", ("é.example",)),
    ],
)
def test_bad_input_is_refused(ip, names):
    with pytest.raises(KitValueError):
        set_entry(DEBIAN, ip, *names)


# -- properties ----------------------------------------------------------------

ips = st.ip_addresses().map(str)
label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,8}[a-zA-Z0-9])?", fullmatch=True)
host_names = st.lists(label, min_size=1, max_size=3).map(".".join)
names_st = st.lists(host_names, min_size=1, max_size=4).map(tuple)
blank = st.sampled_from([" ", "\t", "  \t", "\t\t"])


@st.composite
def hosts_line(draw):
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return "#" + draw(st.text(alphabet=st.characters(blacklist_characters="\n"))) + "\n"
    if kind == 1:
        return draw(st.sampled_from(["", " ", "\t", "  \r"])) + "\n"
    ip = draw(ips)
    sep = draw(blank)
    body = draw(blank).join(draw(names_st))
    tail = draw(st.sampled_from(["", " ", "\t# c", "  #x y"]))
    return f"{draw(st.sampled_from(['', ' ']))}{ip}{sep}{body}{tail}\n"


hosts_text = st.lists(hosts_line(), max_size=8).map("".join)


@given(hosts_text, ips, names_st)
def test_applying_twice_equals_once(text, ip, names):
    once = set_entry(text, ip, *names)
    assert set_entry(once, ip, *names) == once


@given(hosts_text, ips, names_st)
def test_result_parses_back_to_the_requested_names(text, ip, names):
    out = set_entry(text, ip, *names)
    assert parse(out)[str(ipaddress.ip_address(ip))] == names
    wanted = ipaddress.ip_address(ip)
    assert sum(1 for ln in lines(out) if (e := parse_line(ln)) and e[0] == wanted) == 1


@given(hosts_text, ips, names_st)
def test_other_lines_survive_byte_for_byte(text, ip, names):
    wanted = ipaddress.ip_address(ip)
    others = [ln for ln in lines(text) if not ((e := parse_line(ln)) and e[0] == wanted)]
    out_others = [
        ln
        for ln in lines(set_entry(text, ip, *names))
        if not ((e := parse_line(ln)) and e[0] == wanted)
    ]
    # The last line may gain the newline an appended entry needs.
    assert [ln.rstrip("\n") for ln in out_others] == [ln.rstrip("\n") for ln in others]
    assert out_others[:-1] == others[:-1]


def test_a_zone_id_is_an_interface_name():
    out = set_entry("", "fe80::1%eth0", "gw.example")
    assert out == "fe80::1%eth0\tgw.example\n"


# Mostly the characters that split a line or a field, with enough letters to pass for a name.
hostile = st.text(
    alphabet=st.sampled_from("ab1.-_:@%# \t\n\r\x0b\x0c\x1c\x85\0é"), max_size=12
) | st.text(max_size=12)


@given(hosts_text, hostile, st.lists(hostile, min_size=1, max_size=3))
def test_hostile_input_is_refused_or_makes_exactly_one_line(text, zone, names):
    for ip in (f"fe80::1%{zone}", zone):
        try:
            out = set_entry(text, ip, *names)
        except KitValueError:
            continue
        wanted = ipaddress.ip_address(ip)
        mapped = [e for ln in lines(out) if (e := parse_line(ln)) and e[0] == wanted]
        assert mapped == [(wanted, tuple(names))]
        assert len(lines(out)) <= len(lines(text)) + 1


raw_lines = st.binary(max_size=30).filter(lambda b: b"\n" not in b).map(lambda b: b + b"\n")


@given(st.lists(raw_lines, max_size=6), ips, names_st)
def test_bytes_that_are_not_utf8_survive_in_other_lines(raw, ip, names):
    wanted = ipaddress.ip_address(ip)

    def other(line: bytes) -> bool:
        return not ((e := parse_line(decode(line))) and e[0] == wanted)

    out = encode(set_entry(decode(b"".join(raw)), ip, *names))
    out_lines = [ln + b"\n" for ln in out.split(b"\n")[:-1]]
    assert b"".join(out_lines) == out
    assert [ln for ln in out_lines if other(ln)] == [ln for ln in raw if other(ln)]
