"""/etc/fstab (and /proc/self/mounts, which has the same shape).

Fields are blank-separated; a blank inside a field is written as an octal
escape (`\\040`), which parse decodes and format_entry encodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kit.edits import append_line, ending, fields, lines
from kit.errors import KitValueError

_ESCAPE = re.compile(r"\\([0-7]{3})")
_NEEDS_ESCAPE = {" ": "\\040", "\t": "\\011", "\n": "\\012", "\r": "\\015", "\\": "\\134"}


@dataclass(frozen=True, slots=True)
class Entry:
    spec: str
    file: str
    vfstype: str
    mntops: str = "defaults"
    freq: int = 0
    passno: int = 0

    @property
    def options(self) -> list[str]:
        return self.mntops.split(",")


def decode(field: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), field)


def encode(field: str) -> str:
    return "".join(_NEEDS_ESCAPE.get(c, c) for c in field)


def parse_line(line: str) -> Entry | None:
    """The entry a line holds, or None for comments, blanks and malformed lines."""
    parts = fields(line)
    if len(parts) < 3 or parts[0].startswith("#"):
        return None
    spec, file, vfstype = (decode(p) for p in parts[:3])
    mntops = decode(parts[3]) if len(parts) > 3 else "defaults"
    return Entry(spec, file, vfstype, mntops, _int(parts, 4), _int(parts, 5))


def parse(text: str) -> list[Entry]:
    return [e for e in (parse_line(line) for line in lines(text)) if e is not None]


def format_entry(entry: Entry) -> str:
    """One fstab line (without its newline)."""
    for value in (entry.spec, entry.file, entry.vfstype, entry.mntops):
        if not value or "\0" in value or value.startswith("#"):
            raise KitValueError(f"invalid fstab field: {value!r}")
    cols = [encode(entry.spec), encode(entry.file), encode(entry.vfstype), encode(entry.mntops)]
    return " ".join([*cols, str(entry.freq), str(entry.passno)])


def same_mountpoint(a: str, b: str) -> bool:
    return _norm_dir(a) == _norm_dir(b)


def comment_swap(text: str) -> str:
    """Comment out every swap entry (device, UUID=, LABEL=, swap file); nothing else moves."""
    out = []
    for line in lines(text):
        entry = parse_line(line)
        out.append("#" + line if entry is not None and entry.vfstype == "swap" else line)
    return "".join(out)


def swap_entries(text: str) -> list[Entry]:
    return [e for e in parse(text) if e.vfstype == "swap"]


def entry_for(text: str, mountpoint: str) -> Entry | None:
    """The entry that mounts at mountpoint (the first, as mount(8) would use)."""
    for entry in parse(text):
        if same_mountpoint(entry.file, mountpoint):
            return entry
    return None


def set_entry(text: str, entry: Entry) -> str:
    """Make entry the one line for its mountpoint: replace the first, drop later ones.

    A line already equal to entry (field by field) is kept as written.
    """
    line = format_entry(entry)
    out: list[str] = []
    placed = False
    for old in lines(text):
        current = parse_line(old)
        if current is None or not same_mountpoint(current.file, entry.file):
            out.append(old)
        elif not placed:
            out.append(old if current == entry else line + ending(old))
            placed = True
    result = "".join(out)
    return result if placed else append_line(result, line)


def _int(parts: list[str], index: int) -> int:
    try:
        return int(parts[index])
    except (IndexError, ValueError):
        return 0


def _norm_dir(path: str) -> str:
    stripped = path.rstrip("/")
    return stripped or path
