"""A real local connection that also keeps the command lines it ran.

Not a mock: every command runs through /bin/sh. Tests use the record to prove
that a second, already-compliant call sends no write command.
"""

from __future__ import annotations

from pathlib import Path

from kit.connection.local import LocalConnection
from kit.connection.spec import parse

# Fragments that appear only in commands that change a host.
WRITES = (
    "mktemp",
    "mv -f",
    "sysctl -q -w",
    "modprobe -- ",  # loads; `modprobe -n` (resolve only, as planning does) reads
    "modprobe -r",
    "swapoff",
    "systemctl mask",
    "mount -",
    "mount %",
    "umount",
    "mkfs",
    "chmod ",
    "chown ",
    "rm -",
    "mkdir ",
    "ln -s",
    "tar -xf",
    "unzip -o",
    "curl",
    "wget",
)


def modprobe_stand_in(bin_dir: Path) -> str:
    """A `modprobe` for a kernel that has every module, put in bin_dir: `modprobe -n`
    (what planning runs) succeeds; loading fails loudly. This machine has no kmod and no
    /lib/modules, so planning to load a module needs a stand-in to plan at all."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    tool = bin_dir / "modprobe"
    tool.write_text('#!/bin/sh\n[ "$1" = -n ] && exit 0\necho "stand-in: no loading" >&2\nexit 1\n')
    tool.chmod(0o755)
    return str(bin_dir)


class RecordingConnection(LocalConnection):
    def __init__(self, path_prefix: str | None = None) -> None:
        super().__init__(parse("local://"))
        self.commands: list[str] = []
        # Tests may put stand-in tools first on PATH for what must not run here for real.
        self.path_prefix = path_prefix

    def _exec(self, cmdline, *, stdin, timeout):
        self.commands.append(cmdline)
        if self.path_prefix:
            cmdline = f"PATH={self.path_prefix}:$PATH; export PATH; {cmdline}"
        return super()._exec(cmdline, stdin=stdin, timeout=timeout)

    @property
    def sent(self) -> list[str]:
        return self.commands

    def sent_any(self, *words: str) -> bool:
        return any(w in c for c in self.commands for w in words)

    def writes(self) -> list[str]:
        """Commands recorded so far that would change the host."""
        return [c for c in self.commands if any(w in c for w in WRITES)]

    def reset(self) -> None:
        self.commands.clear()
