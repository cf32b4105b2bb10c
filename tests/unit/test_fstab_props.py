from hypothesis import given
from hypothesis import strategies as st

from kit.edits import fstab, lines

BLANK = st.sampled_from([" ", "\t", "  ", " \t "])
WORD = st.text(st.sampled_from("abcXYZ019/=_-.,:"), min_size=1, max_size=8).filter(
    lambda w: not w.startswith("#")
)
ANY_LINE = st.text(st.characters(blacklist_characters="\n", codec="utf-8"), max_size=30)


@st.composite
def entry_lines(draw, fstype=None):
    cols = [draw(WORD), draw(WORD), fstype or draw(st.sampled_from(["ext4", "swap", "xfs"]))]
    cols += draw(st.lists(WORD, max_size=3))
    lead, trail = draw(st.sampled_from(["", " ", "\t"])), draw(st.sampled_from(["", " ", "\r"]))
    line = lead
    for i, col in enumerate(cols):
        line += (draw(BLANK) if i else "") + col
    return line + trail


@st.composite
def fstab_texts(draw):
    body = draw(
        st.lists(
            st.one_of(entry_lines(), entry_lines("swap"), ANY_LINE, st.just("# comment\tx")),
            max_size=12,
        )
    )
    text = "\n".join(body)
    return text + draw(st.sampled_from(["", "\n"])) if text else text


ENTRIES = st.builds(
    fstab.Entry,
    spec=st.text(st.sampled_from("abc /\t\\09=-"), min_size=1, max_size=10).filter(
        lambda s: s.strip() == s and not s.startswith("#")
    ),
    file=st.sampled_from(["/", "/mnt/x", "/mnt/x/", "/srv/a b", "/data"]),
    vfstype=st.sampled_from(["ext4", "xfs", "tmpfs", "nfs4"]),
    mntops=st.sampled_from(["defaults", "noatime,nodev", "ro"]),
    freq=st.integers(0, 1),
    passno=st.integers(0, 2),
)


def _is_swap(line):
    entry = fstab.parse_line(line)
    return entry is not None and entry.vfstype == "swap"


@given(fstab_texts())
def test_comment_swap_is_idempotent(text):
    once = fstab.comment_swap(text)
    assert fstab.comment_swap(once) == once


@given(fstab_texts())
def test_comment_swap_touches_only_swap_lines(text):
    out = lines(fstab.comment_swap(text))
    for old, new in zip(lines(text), out, strict=True):
        assert new == ("#" + old if _is_swap(old) else old)
    assert fstab.swap_entries("".join(out)) == []


@given(fstab_texts(), ENTRIES)
def test_set_entry_is_idempotent_and_parses_back(text, entry):
    once = fstab.set_entry(text, entry)
    assert fstab.set_entry(once, entry) == once
    assert fstab.entry_for(once, entry.file) == entry
    matching = [e for e in fstab.parse(once) if fstab.same_mountpoint(e.file, entry.file)]
    assert len(matching) == 1


@given(fstab_texts(), ENTRIES)
def test_set_entry_preserves_other_lines_byte_for_byte(text, entry):
    def others(t):
        return [
            line.rstrip("\n")
            for line in lines(t)
            if (e := fstab.parse_line(line)) is None
            or not fstab.same_mountpoint(e.file, entry.file)
        ]

    out = fstab.set_entry(text, entry)
    assert others(out) == others(text)
    # Only the last line may gain a newline (when the entry is appended after it).
    kept = [line for line in lines(text) if line.rstrip("\n") in others(text)]
    assert all(line in out for line in kept)
