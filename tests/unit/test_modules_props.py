from hypothesis import given
from hypothesis import strategies as st

from kit.edits import fields, lines, modules

NAMES = st.sampled_from(["br_netfilter", "br-netfilter", "overlay", "nf_conntrack", "dummy"])
PARAMS = st.lists(st.sampled_from(["a=1", "b=2", "hashsize=65536", "x=y"]), max_size=3)
ANY_LINE = st.text(st.characters(blacklist_characters="\n", codec="utf-8"), max_size=30)
BLANK = st.sampled_from([" ", "\t", "  "])


@st.composite
def modprobe_lines(draw):
    cmd = draw(st.sampled_from(["options", "install", "blacklist", "alias"]))
    words = [cmd, draw(NAMES), *draw(PARAMS)]
    return draw(st.sampled_from(["", " "])) + draw(BLANK).join(words)


@st.composite
def texts(draw, line_kind):
    body = draw(st.lists(st.one_of(line_kind, ANY_LINE, st.just("# c")), max_size=10))
    text = "\n".join(body)
    return text + draw(st.sampled_from(["", "\n"])) if text else text


def _options_for(line, name):
    parts = fields(line)
    return len(parts) >= 2 and parts[0] == "options" and modules.same_module(parts[1], name)


@given(texts(modprobe_lines()), NAMES, PARAMS)
def test_set_options_is_idempotent_and_parses_back(text, name, params):
    once = modules.set_options(text, name, params)
    assert modules.set_options(once, name, params) == once
    assert modules.module_options(once, name) == params
    assert sum(_options_for(line, name) for line in lines(once)) == (1 if params else 0)


@given(texts(modprobe_lines()), NAMES, PARAMS)
def test_set_options_preserves_other_lines(text, name, params):
    def others(t):
        return [line.rstrip("\n") for line in lines(t) if not _options_for(line, name)]

    assert others(modules.set_options(text, name, params)) == others(text)


@given(texts(NAMES), NAMES)
def test_add_module_is_idempotent_keeps_text_and_lists_the_module(text, name):
    once = modules.add_module(text, name)
    assert modules.add_module(once, name) == once
    assert once.startswith(text.rstrip("\n")) and once[: len(text)].rstrip("\n") == text.rstrip(
        "\n"
    )
    assert any(modules.same_module(n, name) for n in modules.parse_modules_load(once))
