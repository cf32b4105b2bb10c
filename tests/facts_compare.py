"""What two versions of the facts script say about one host, compared as parsed facts.

The old version is gather.sh as it was before it read /proc and /sys with the shell's
builtins (tests/unit/data/facts/gather-before.sh). A host changes while it is read:
counters, random ids, free space, sockets other tests open. So the old script runs
before and after the new one, and a fact the two old runs disagree on is left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

from kit.facts import Facts, parse_facts
from kit.facts.gather import script

OLD_SCRIPT = Path(__file__).parent / "unit" / "data" / "facts" / "gather-before.sh"
PROBES_FILES = ("/etc/passwd", "/etc/hostkit-absent", "/proc/self")
PROBES_PACKAGES = ("bash", "coreutils", "hostkit-absent-package")


def differences(old: Facts, new: Facts, old_again: Facts) -> list[str]:
    """Facts where new differs from what old said twice."""
    found = []
    for field in dataclasses.fields(Facts):
        a, b, c = (getattr(f, field.name) for f in (old, new, old_again))
        if field.name == "sysctls":
            for key in sorted(set(a) | set(b) | set(c)):
                if a.get(key) == c.get(key) != b.get(key):
                    found.append(f"sysctls[{key}]: {a.get(key)!r}, new {b.get(key)!r}")
        elif a == c != b:
            found.append(f"{field.name}: {a!r}, new {b!r}")
    return found


def compare(run: Callable[[str], str], attempts: int = 3) -> list[str]:
    """Differences between the old and the new script's facts, run(text) giving a
    script's raw answer; tried again when the host moved in between."""
    old, new = OLD_SCRIPT.read_text(), script()
    assert old != new, "the old script is the new one: nothing is compared"
    found: list[str] = []
    for _ in range(attempts):
        found = differences(*(parse_facts(run(text)) for text in (old, new, old)))
        if not found:
            break
    return found
