"""What a host sent, made safe to show: every character a terminal would act on, hide or
fail to print is written as an escape instead.

A record, a message or a command's output read from a host is data from a machine that
may be compromised. Printed raw, an escape sequence in it can retitle the operator's
terminal, hide lines or forge output; a right-to-left override can reorder what is read;
a byte that was not UTF-8 (decoded with surrogateescape) makes print() raise.
"""

from __future__ import annotations

# Escapes read like Python's: \xNN, \uNNNN, \UNNNNNNNN. A literal backslash is doubled
# only where it would otherwise read as the start of one, so a path with a backslash is
# shown as it is, and two different texts are never shown alike.
_STARTS_ESCAPE = frozenset("xuU\\")


def printable(text: str) -> str:
    """text with every non-printable character (C0, DEL, C1, format and separator
    characters, lone surrogates, unassigned ones) escaped; printable text is unchanged."""
    if text.isprintable() and "\\" not in text:
        return text  # the common case, at the cost of one scan
    out = []
    for i, char in enumerate(text):
        if char == "\\":
            following = text[i + 1 : i + 2]
            ambiguous = following in _STARTS_ESCAPE or not following.isprintable()
            out.append("\\\\" if following and ambiguous else "\\")
        elif char.isprintable():
            out.append(char)
        else:
            out.append(_escape(ord(char)))
    return "".join(out)


def _escape(code: int) -> str:
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"
