"""Each host's own root: an overlay whose upper layer holds what the host changed.

The shared image is the read-only lower layer, so a host starts in well under a
second where a copy of the 400 MB image takes seconds, and the image is never
written.
"""

from __future__ import annotations

import os
from pathlib import Path

from kit.testhosts import tools
from kit.testhosts.errors import StepFailed


def mount(lower: Path, host_dir: Path) -> Path:
    upper, work, root = host_dir / "upper", host_dir / "work", host_dir / "root"
    for part in (lower, upper, work, root):
        if any(c in str(part) for c in ",:\n"):
            raise StepFailed(f"overlay path {part}", 1, "contains ',', ':' or a newline")
    for directory in (upper, work, root):
        directory.mkdir(parents=True, exist_ok=True)
    if not is_mounted(root):
        options = f"lowerdir={lower},upperdir={upper},workdir={work}"
        tools.run(["mount", "-t", "overlay", "overlay", "-o", options, root], f"mounting {root}")
    return root


def umount(root: Path) -> bool:
    if not is_mounted(root):
        return False
    done = tools.run(["umount", root], f"unmounting {root}", check=False)
    if done.returncode != 0:
        # still busy (a process inside is exiting): detach now, freed when unused
        tools.run(["umount", "--lazy", root], f"unmounting {root}")
    return True


def is_mounted(path: Path) -> bool:
    target = os.path.realpath(path)
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) > 4 and _unescape(fields[4]) == target:
            return True
    return False


def _unescape(field: str) -> str:
    return field.encode().decode("unicode_escape") if "\\" in field else field
