"""Text that can be written as UTF-8, whatever a loader made of it.

Python's `json.dump` writes a character outside the BMP as a pair of `\\uXXXX` escapes;
YAML reads such a pair back as two lone surrogates, and a JSON file may hold a lone one.
Such a string cannot be encoded, so a report holding it fails to be written. Loaders of
operator files and the report writers pass text through here: a pair becomes the
character it stands for and a lone surrogate becomes U+FFFD.
"""

from __future__ import annotations

import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")


def text(value: str) -> str:
    if not _SURROGATE.search(value):
        return value
    # UTF-16 is where surrogates mean something: a pair decodes to its character.
    return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def found_in(value: Any) -> bool:
    """Whether a string in value (a loaded document, a report's attributes) needs text()."""
    if isinstance(value, str):
        return bool(_SURROGATE.search(value))
    if isinstance(value, dict):
        return any(found_in(k) or found_in(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(found_in(v) for v in value)
    return False


def data(value: Any) -> Any:
    """A loaded document with every string in it (keys too) made encodable."""
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {data(k): data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [data(v) for v in value]
    if isinstance(value, tuple):
        return tuple(data(v) for v in value)
    return value
