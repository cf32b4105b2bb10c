"""The outcome of one command: exact bytes, exit code, and how long it took."""

from __future__ import annotations

from dataclasses import dataclass

from kit.errors import CommandError, brief

_PREVIEW = 400


@dataclass(frozen=True, slots=True)
class Result:
    command: str
    rc: int
    stdout_bytes: bytes
    stderr_bytes: bytes
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.rc == 0

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode("utf-8", errors="replace")

    def check(self) -> Result:
        """Return self when the command succeeded, else raise CommandError."""
        if not self.ok:
            raise CommandError(self)
        return self

    def describe(self) -> str:
        """One line: the command, shortened, and what it said on stderr."""
        err = " | ".join(line.strip() for line in self.stderr.strip().splitlines() if line.strip())
        if len(err) > _PREVIEW:
            err = err[:_PREVIEW] + "..."
        tail = f": {err}" if err else ""
        return f"command exited {self.rc}: {brief(self.command)}{tail}"
