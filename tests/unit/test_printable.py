"""What a host sends is shown with its control characters escaped, and nothing else changed."""

from __future__ import annotations

import re
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from kit.printable import printable

# C0, DEL and C1: what a terminal acts on instead of showing.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_ESCAPE = re.compile(r"\\(?:x([0-9a-f]{2})|u([0-9a-f]{4})|U([0-9a-f]{8})|(\\))")


def unescaped(shown: str) -> str:
    """Read an escaped text back (the proof that distinct texts stay distinct): a backslash
    before x, u, U or a backslash starts an escape; any other backslash stands for itself."""

    def back(match: re.Match[str]) -> str:
        hexa = match.group(1) or match.group(2) or match.group(3)
        return chr(int(hexa, 16)) if hexa else "\\"

    return _ESCAPE.sub(back, shown)


@given(st.text())
def test_no_control_character_survives(text: str) -> None:
    shown = printable(text)
    assert not CONTROL.search(shown)
    assert shown.isprintable()


@given(st.text())
def test_the_text_can_be_read_back_so_distinct_texts_stay_distinct(text: str) -> None:
    assert unescaped(printable(text)) == text


@given(st.text(st.characters(codec="utf-8").filter(str.isprintable)))
def test_printable_text_without_escape_like_backslashes_is_unchanged(text: str) -> None:
    plain = re.sub(r"\\(?=[xuU\\]|$)", "/", text)  # only these backslashes need doubling
    assert printable(plain) == plain


@given(st.binary())
def test_undecodable_bytes_from_a_host_are_shown_not_raised(data: bytes) -> None:
    # A host's output is decoded with surrogateescape; printing a lone surrogate raises.
    shown = printable(data.decode("utf-8", "surrogateescape"))
    assert shown.encode("utf-8").decode("utf-8") == shown


def test_terminal_sequences_and_lookalikes() -> None:
    assert printable("\x1b]0;owned\x07") == "\\x1b]0;owned\\x07"
    assert printable("a\nb\r\tc") == "a\\x0ab\\x0d\\x09c"
    assert printable("\x9b31m") == "\\x9b31m"  # C1 CSI, one byte in latin-1 terminals
    assert printable("abc\u202edcba") == "abc\\u202edcba"  # right-to-left override
    assert printable("\U000e0041") == "\\U000e0041"  # a tag character, invisible
    # A literal backslash-x is not mistaken for an escape.
    assert printable("\\x1b") == "\\\\x1b"
    assert printable("\x1b") != printable("\\x1b")
    assert printable("C:\\dir\\") == "C:\\dir\\"
    assert printable("Grüße, 東京 🙂") == "Grüße, 東京 🙂"


def test_every_category_of_invisible_character_is_escaped() -> None:
    for code in (0x00, 0x1F, 0x7F, 0x80, 0x9F, 0x200B, 0x2028, 0x2029, 0xFEFF, 0xDC80):
        assert printable(chr(code)).startswith("\\"), unicodedata.category(chr(code))
