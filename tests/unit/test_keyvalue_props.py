from hypothesis import given
from hypothesis import strategies as st

from kit.edits import keyvalue, lines

KEYS = st.sampled_from(["GRUB_DEFAULT", "PermitRootLogin", "a.b", "X"])
VALUES = st.text(st.sampled_from("abc 01=\"'#=:"), max_size=8).map(lambda v: v.strip(" "))
ANY_LINE = st.text(st.characters(blacklist_characters="\n", codec="utf-8"), max_size=30)
SEPS = st.sampled_from(["=", ":"])


@st.composite
def texts(draw, sep):
    def setting():
        return st.tuples(KEYS, st.sampled_from(["", " ", "\t"]), VALUES).map(
            lambda t: f"{t[0]}{t[1]}{sep}{t[1]}{t[2]}"
        )

    body = draw(st.lists(st.one_of(setting(), ANY_LINE, st.just("# x=1")), max_size=10))
    text = "\n".join(body)
    return text + draw(st.sampled_from(["", "\n"])) if text else text


@given(st.data(), SEPS, KEYS, VALUES, st.booleans())
def test_set_value_idempotent_parses_back_and_keeps_others(data, sep, key, value, spaced):
    text = data.draw(texts(sep))
    once = keyvalue.set_value(text, key, value, sep=sep, spaced=spaced)
    assert keyvalue.set_value(once, key, value, sep=sep, spaced=spaced) == once
    assert keyvalue.parse(once, sep=sep)[key] == value

    def others(t):
        return [
            line.rstrip("\n")
            for line in lines(t)
            if (kv := keyvalue.parse_line(line, sep=sep)) is None or kv[0] != key
        ]

    assert others(once) == others(text)
