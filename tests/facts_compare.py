"""What two versions of the facts script say about one host, compared as parsed facts.

The old version is gather.sh as it was before it read /proc and /sys with the shell's
builtins (tests/unit/data/facts/gather-before.sh). A host changes while it is read:
counters, random ids, free space, sockets other tests open. So the old script runs
before and after the new one, and a fact the two old runs disagree on is left out.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from pathlib import Path

from kit.facts import Facts, parse_facts
from kit.facts.gather import script
from kit.facts.model import KernelPrep

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
        elif field.name == "kernelprep" and None not in (a, b, c):
            a, b, c = (_without_counts(p) for p in (a, b, c))
            found |= _parts_differing(field.name, a, b, c)
        elif a == c != b:
            found |= _parts_differing(field.name, a, b, c)
    return found


def _parts_differing(name: str, a: object, b: object, c: object) -> dict[str, str]:
    """A group of facts (a dataclass) is named part by part, so a failure shows the part
    that differs, not the whole group."""
    if not all(dataclasses.is_dataclass(x) and type(x) is type(a) for x in (b, c)):
        return {name: f"{a!r}, new {b!r}"} if a == c != b else {}
    found = {}
    for part in dataclasses.fields(a):  # type: ignore[arg-type]
        x, y, z = (getattr(v, part.name) for v in (a, b, c))
        if x == z != y:
            found[f"{name}.{part.name}"] = f"{x!r}, new {y!r}"
    return found


_DF_LINE = re.compile(r"^(\S+\s+\d+)\s+\d+\s+\d+\s+\d+%(\s.*)$", re.MULTILINE)
_CGROUP_LINE = re.compile(r"^(\w+\t\d+\t)\d+(\t\d+)$", re.MULTILINE)


def _without_counts(prep: KernelPrep) -> KernelPrep:
    """A state directory's used and free space, and each controller's number of cgroups in
    /proc/cgroups, count what the machine holds at the moment: other tests' files and
    cgroups move them between any two reads. Each line's shape is still compared."""
    disk = {
        path: (parent, _DF_LINE.sub(r"\1 USED FREE PCT\2", text))
        for path, (parent, text) in prep.disk.items()
    }
    cgroup = _CGROUP_LINE.sub(r"\1COUNT\2", prep.cgroup)
    return dataclasses.replace(prep, disk=disk, cgroup=cgroup)


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
