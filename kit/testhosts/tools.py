"""Preconditions (root, tools) and one way to run a local step with an honest error."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from kit.testhosts.errors import NotRoot, StepFailed, ToolMissing

# tool -> the Debian package that ships it
PACKAGES = {
    "mmdebstrap": "mmdebstrap",
    "systemd-nspawn": "systemd-container",
    "qemu-system-x86_64": "qemu-system-x86",
    "ssh-keygen": "openssh-client",
    "ssh": "openssh-client",
    "dpkg-scanpackages": "dpkg-dev",
    "mkfs.ext4": "e2fsprogs",
    "ip": "iproute2",
    "chpasswd": "passwd",
    "mount": "mount",
    "unshare": "util-linux",
    "chroot": "coreutils",
}


def require_root() -> None:
    if os.geteuid() != 0:
        raise NotRoot()


def require(*tools: str) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            raise ToolMissing(tool, PACKAGES.get(tool, tool))


def tail(path: Path, lines: int = 20) -> str:
    try:
        data = path.read_bytes()[-16384:]
    except OSError:
        return ""
    text = data.decode("utf-8", "replace").replace("\r", "")
    return "\n".join(text.strip().splitlines()[-lines:])


def run(
    argv: Sequence[str | os.PathLike[str]],
    what: str,
    *,
    stdin: bytes | None = None,
    cwd: Path | None = None,
    timeout: float | None = 600,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run a local step; on failure raise StepFailed with what it was and stderr's tail."""
    done = subprocess.run(
        [os.fspath(a) for a in argv],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise StepFailed(what, done.returncode, done.stderr.decode("utf-8", "replace"))
    return done
