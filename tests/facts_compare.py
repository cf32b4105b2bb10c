"""What two versions of the facts script say about one host, compared as parsed facts.

The old version is gather.sh as it was before it read /proc and /sys with the shell's
builtins (tests/unit/data/facts/gather-before.sh). A host changes while it is read:
counters, random ids, free space, sockets other tests open. So the old script runs
before and after the new one, and a fact the two old runs disagree on is left out.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from kit.facts import Facts, parse_facts
from kit.facts.gather import script

OLD_SCRIPT = Path(__file__).parent / "unit" / "data" / "facts" / "gather-before.sh"
PROBES_FILES = ("/etc/passwd", "/etc/hostkit-absent", "/proc/self")
PROBES_PACKAGES = ("bash", "coreutils", "hostkit-absent-package")


def differences(old: Facts, new: Facts, old_again: Facts) -> list[str]:
    """Facts where new differs from what old said twice."""
    return [f"{name}: {text}" for name, text in _differing(old, new, old_again).items()]


def _reports_state(key: str) -> bool:
    """A read-only sysctl (fs.dentry-state, fs.file-nr, kernel.random.uuid) reports the
    kernel's state, which moves up and back down by itself between reads; the same read of
    /proc/sys answers it as every setting, so the settings' comparison covers it."""
    try:
        mode = os.stat(Path("/proc/sys", *key.split("."))).st_mode
    except OSError:
        return False
    return not mode & 0o222


def _differing(old: Facts, new: Facts, old_again: Facts) -> dict[str, str]:
    found = {}
    for field in dataclasses.fields(Facts):
        a, b, c = (getattr(f, field.name) for f in (old, new, old_again))
        if field.name == "sysctls":
            for key in sorted(set(a) | set(b) | set(c)):
                if _reports_state(key):
                    continue
                if a.get(key) == c.get(key) != b.get(key):
                    found[f"sysctls[{key}]"] = f"{a.get(key)!r}, new {b.get(key)!r}"
        elif a == c != b:
            found[field.name] = f"{a!r}, new {b!r}"
    return found


def compare(run: Callable[[str], str], attempts: int = 4) -> list[str]:
    """Differences between the old and the new script's facts, run(text) giving a
    script's raw answer. On a busy machine a fact may move just while the new script
    runs (a socket another test opens and closes): a fact counts as different only
    when it differed in every attempt."""
    old, new = OLD_SCRIPT.read_text(), script()
    assert old != new, "the old script is the new one: nothing is compared"
    found: dict[str, str] | None = None
    for _ in range(attempts):
        this = _differing(*(parse_facts(run(text)) for text in (old, new, old)))
        found = this if found is None else {k: v for k, v in this.items() if k in found}
        if not found:
            return []
    assert found is not None
    return [f"{name}: {text}" for name, text in found.items()]
