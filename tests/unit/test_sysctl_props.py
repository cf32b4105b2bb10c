from hypothesis import given
from hypothesis import strategies as st

from kit.edits import decode, encode, lines, sysctl

KEYS = st.sampled_from(["net.ipv4.ip_forward", "vm.swappiness", "net.ipv4.ip_local_port_range"])
VALUES = st.lists(st.sampled_from(["0", "1", "60", "32768", "-1"]), min_size=1, max_size=3).map(
    " ".join
)
ANY_LINE = st.text(st.characters(blacklist_characters="\n", codec="utf-8"), max_size=30)


@st.composite
def setting_lines(draw):
    key = draw(KEYS)
    if draw(st.booleans()):
        key = key.replace(".", "/")
    sep = draw(st.sampled_from(["=", " = ", "\t=\t", "= "]))
    value = draw(VALUES).replace(" ", draw(st.sampled_from([" ", "\t", "  "])))
    return (
        draw(st.sampled_from(["", "-", " "]))
        + key
        + sep
        + value
        + draw(st.sampled_from(["", " ", "\r"]))
    )


@st.composite
def texts(draw):
    body = draw(
        st.lists(st.one_of(setting_lines(), ANY_LINE, st.just("; c"), st.just("# c")), max_size=10)
    )
    text = "\n".join(body)
    return text + draw(st.sampled_from(["", "\n"])) if text else text


def _targets(line, key):
    kv = sysctl.parse_line(line)
    return kv is not None and kv[0] == key


@given(texts(), KEYS, VALUES)
def test_set_key_is_idempotent(text, key, value):
    once = sysctl.set_key(text, key, value)
    assert sysctl.set_key(once, key, value) == once


@given(texts(), KEYS, VALUES)
def test_set_key_parses_back_and_leaves_one_line(text, key, value):
    out = sysctl.set_key(text, key, value)
    assert sysctl.lookup(out, key) == value
    assert sum(_targets(line, key) for line in lines(out)) == 1
    others = {k: v for k, v in sysctl.parse(text).items() if k != key}
    assert {k: v for k, v in sysctl.parse(out).items() if k != key} == others


@given(texts(), KEYS, VALUES)
def test_set_key_preserves_other_lines_byte_for_byte(text, key, value):
    def others(t):
        return [line.rstrip("\n") for line in lines(t) if not _targets(line, key)]

    assert others(sysctl.set_key(text, key, value)) == others(text)


@given(VALUES, st.sampled_from([" ", "\t", " \t"]))
def test_whitespace_does_not_change_a_value(value, blank):
    assert sysctl.same_value(value, blank + value.replace(" ", blank) + blank)


RAW_LINE = st.one_of(
    st.binary(max_size=30).filter(lambda b: b"\n" not in b),
    setting_lines().map(lambda s: s.encode()),
).map(lambda b: b + b"\n")


@given(st.lists(RAW_LINE, max_size=8), KEYS, VALUES)
def test_bytes_that_are_not_utf8_survive_in_other_lines(raw, key, value):
    def other(line: bytes) -> bool:
        return not _targets(decode(line), key)

    out = encode(sysctl.set_key(decode(b"".join(raw)), key, value))
    out_lines = [ln + b"\n" for ln in out.split(b"\n")[:-1]]
    assert b"".join(out_lines) == out
    assert [ln for ln in out_lines if other(ln)] == [ln for ln in raw if other(ln)]
    assert sysctl.lookup(decode(out), key) == value
