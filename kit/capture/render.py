"""The captured profile's YAML text: the values read, each under a comment saying where it
comes from, and the parameters not captured listed in comments at the end."""

from __future__ import annotations

from collections.abc import Mapping

from kit.capture.reads import Pinned
from kit.printable import printable


def comment(text: str, indent: str = "") -> str:
    # What a host sent, on one line: a newline in it would end the comment.
    return f"{indent}# {printable(text)}\n"


def render(
    name: str,
    extends: str,
    host: str,
    pinned: Mapping[str, Pinned],
    kept: Mapping[str, str],
) -> str:
    """pinned: the parameters read (a None value is kept from the parent, with its note);
    kept: the catalog's other parameters, with why they are not captured."""
    import yaml

    text = comment(f"Captured by `hostkit capture` from {host}, over profile {extends}:")
    text += comment("each parameter below is what that host had; the others are the parent's.")
    text += yaml.safe_dump({"name": name, "extends": extends}, sort_keys=False)
    captured = {k: p for k, p in pinned.items() if p.value is not None}
    if captured:
        text += "params:\n"
    for key, got in captured.items():
        text += comment(got.note, "  ")
        for line in got.remarks:
            text += comment(line, "  ")
        block = yaml.safe_dump({key: got.value}, sort_keys=False, width=10_000)
        text += "".join(f"  {line}\n" for line in block.splitlines())
    skipped = {k: p for k, p in pinned.items() if p.value is None}
    if skipped or kept:
        text += comment("Not captured (the parent's values hold):")
    for key, got in skipped.items():
        text += comment(f"  {key}: {got.note}")
        for line in got.remarks:
            text += comment(f"    {line}")
    for key, why in kept.items():
        text += comment(f"  {key}: {why}")
    return text
