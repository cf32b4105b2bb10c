"""The one place where values become shell words."""

from __future__ import annotations

import os
import shlex


def quote(value: str | int | os.PathLike[str]) -> str:
    """Quote one value so a POSIX shell reads it back as exactly one word."""
    if isinstance(value, bool):
        raise TypeError("refusing to quote a bool; pass a string")
    return shlex.quote(os.fspath(value) if isinstance(value, os.PathLike) else str(value))


def command(template: str, *args: str | int | os.PathLike[str]) -> str:
    """Fill %s placeholders in template with quoted args, as testinfra's run() does."""
    if not args:
        return template
    return template % tuple(quote(a) for a in args)


def join(argv: list[str] | tuple[str, ...]) -> str:
    """Quote every element of an argument vector into one command line."""
    return " ".join(quote(a) for a in argv)
