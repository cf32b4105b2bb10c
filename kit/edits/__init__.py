"""Pure text transforms of configuration files: text in, text out, no I/O.

Every edit leaves lines it does not target byte-identical, and applying it
twice gives the same text as applying it once.
"""

from __future__ import annotations

import re


def lines(text: str) -> list[str]:
    r"""The lines of text, each with its "\n" (the last may have none).

    Only "\n" ends a line in these files: str.splitlines would also split on
    "\r", form feeds and Unicode separators, which are content to keep.
    """
    parts = text.split("\n")
    out = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        out.append(parts[-1])
    return out


def decode(data: bytes) -> str:
    """A file's bytes as text; bytes that are not UTF-8 become lone surrogates.

    encode gives exactly those bytes back, so an edit keeps a Latin-1 comment
    (or any other stray byte) it does not touch.
    """
    return data.decode("utf-8", errors="surrogateescape")


def encode(text: str) -> bytes:
    """The bytes decode read, with the edit's changes."""
    return text.encode("utf-8", errors="surrogateescape")


def ending(line: str) -> str:
    return "\n" if line.endswith("\n") else ""


def append_line(text: str, line: str) -> str:
    """text with line added at the end, on a line of its own."""
    if text and not text.endswith("\n"):
        text += "\n"
    return text + line + "\n"


def fields(line: str) -> list[str]:
    """Fields separated by blanks (spaces and tabs only, as these files define them)."""
    return [f for f in _BLANKS.split(line.strip(" \t\r\n")) if f]


_BLANKS = re.compile(r"[ \t]+")
