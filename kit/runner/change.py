"""What a write operation did, or would do under dry run."""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Change:
    changed: bool
    summary: str
    diff: str = ""
    dry_run: bool = False

    @classmethod
    def none(cls, summary: str, *, dry_run: bool = False) -> Change:
        """Nothing to do: the host already holds the wanted state (summary says why)."""
        return cls(False, summary, "", dry_run)

    @classmethod
    def made(cls, summary: str, diff: str = "", *, dry_run: bool = False) -> Change:
        return cls(True, summary, diff, dry_run)

    def __str__(self) -> str:
        mark = ("would change" if self.dry_run else "changed") if self.changed else "ok"
        return f"[{mark}] {self.summary}"


def combine(summary: str, changes: list[Change], *, dry_run: bool = False) -> Change:
    """One Change for an operation made of several steps."""
    done = [c for c in changes if c.changed]
    if not done:
        return Change.none(summary, dry_run=dry_run)
    detail = "; ".join(c.summary for c in done)
    diff = "".join(c.diff for c in done if c.diff)
    return Change.made(f"{summary}: {detail}", diff, dry_run=dry_run)


def unified_diff(path: str, old: bytes | None, new: bytes) -> str:
    """A unified diff of a file's text; binary content gets a one-line note."""
    try:
        before = old.decode() if old is not None else ""
        after = new.decode()
    except UnicodeDecodeError:
        return f"Binary file {path} differs\n"
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=path if old is not None else "/dev/null",
        tofile=path,
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


def private_diff(path: str, old: bytes | None, new: bytes, *, readable: bool) -> str:
    """The diff of a file's change, unless it may hold secrets: a file that is not
    world-readable, or that holds secret-looking keys, shows digests instead."""
    # Loaded by the runs that make a diff, not by every run that imports Change.
    from kit.runner.secretlike import holds_secret

    secret = any(holds_secret(text) for text in (old or b"", new))
    if readable and not secret:
        return unified_diff(path, old, new)
    why = "it is not world-readable" if not readable else "it holds secret-looking keys"
    before = hashlib.sha256(old).hexdigest() if old is not None else "(absent)"
    after = hashlib.sha256(new).hexdigest()
    return f"--- {path}\n+++ {path}\n(content not shown: {why}; sha256 {before} -> {after})\n"
