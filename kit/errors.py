"""One tree of errors, rooted in KitError.

Errors that describe bad input also inherit ValueError, and timeouts inherit
TimeoutError, so callers can catch them the way they would the built-ins.
"""

from __future__ import annotations

from typing import Protocol


class CommandRecord(Protocol):
    """What a CommandError carries: a command's result (kit.connection.result.Result).

    Named by what it offers rather than imported: errors are the kit's root, and the
    connection layer's Result raises them.
    """

    @property
    def command(self) -> str: ...
    @property
    def rc(self) -> int: ...
    @property
    def stdout_bytes(self) -> bytes: ...
    @property
    def stderr_bytes(self) -> bytes: ...
    @property
    def stdout(self) -> str: ...
    @property
    def stderr(self) -> str: ...
    def describe(self) -> str: ...


class KitError(Exception):
    """Base of every error hostkit raises."""


class KitValueError(KitError, ValueError):
    """A value (host spec, name, path, option) was rejected before anything ran."""


class ConnectError(KitError):
    """A connection to a host could not be made."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: {reason}")
        self.host = host
        self.reason = reason


class HostUnreachable(ConnectError):
    """Nothing answered at the host's address, or the connection dropped."""


class AuthenticationFailed(ConnectError):
    """The host answered but refused every credential offered."""


class HostKeyRejected(ConnectError):
    """The host's key is unknown or differs from the one on record."""

    def __init__(self, host: str, reason: str, fingerprint: str) -> None:
        super().__init__(host, f"{reason} (fingerprint {fingerprint})")
        self.fingerprint = fingerprint


def brief(command: str) -> str:
    """A command as one short line: a script sent as one command would fill a message, and
    its first line names it (the whole command stays on the error's result)."""
    lines = command.strip().splitlines() or [command]
    shown = lines[0] if len(lines[0]) <= 120 else lines[0][:119] + "…"
    return shown + " …" if len(lines) > 1 else shown


class CommandError(KitError):
    """A command exited non-zero where success was required."""

    def __init__(self, result: CommandRecord, message: str | None = None) -> None:
        self.result = result
        super().__init__(message or result.describe())


class CommandTimeout(KitError, TimeoutError):
    """A command ran past its timeout and was killed."""

    def __init__(self, command: str, timeout: float) -> None:
        super().__init__(f"command timed out after {timeout:g}s: {brief(command)}")
        self.command = command
        self.timeout = timeout


class SudoError(KitError):
    """sudo refused: wrong or missing password, or the user may not run the command."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: sudo failed: {reason}")
        self.host = host
        self.reason = reason


class WriteInterrupted(KitError):
    """The transport dropped while a write was in flight; it was not repeated."""


class FactUnknown(KitError):
    """An operation needs a fact the host's facts could not determine."""

    def __init__(self, fact: str, host: str = "") -> None:
        where = f" on {host}" if host and host != "unknown" else ""
        super().__init__(f"fact {fact!r} is unknown{where}; cannot proceed without it")
        self.fact = fact
        self.host = host


class FixRefused(KitError):
    """A remediation declined to change the host: what is there is the operator's to decide.

    Not a failure of the fix: nothing ran, and the check stays failed with the reason.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReadOnlyHost(FixRefused):
    """A write to a host hostkit reaches only through another tool's transport (testinfra's
    docker, podman, kubectl... backends), which it reads through and never writes through."""

    def __init__(self, host: str, kind: str, call: str) -> None:
        KitError.__init__(
            self,
            f"{host}: read-only through testinfra's {kind} backend; refused to run: {call}",
        )
        self.host = host
        self.reason = f"read-only through testinfra's {kind} backend"


class ProtectedError(FixRefused):
    """An operation would cut the access the kit is using to reach the host; nothing ran."""

    def __init__(self, host: str, operation: str, reason: str) -> None:
        KitError.__init__(self, f"{host}: refused to {operation}: {reason}")
        self.host = host
        self.operation = operation
        self.reason = reason


class CommandNotStarted(KitError):
    """The host could not start the command at all (for example, its arguments are too long)."""

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(f"{host}: the command could not start: {reason}")
        self.host = host
        self.reason = reason


class SessionStartTimeout(KitError, TimeoutError):
    """The user's login shell did not come up in time (slow start-up files, not a dropped link)."""

    def __init__(self, host: str, timeout: float) -> None:
        super().__init__(
            f"{host}: the login shell did not start within {timeout:g}s (startup_timeout); "
            "the user's shell start-up files (.bashrc, .profile) may be slow"
        )
        self.host = host
        self.timeout = timeout


class PlanWriteError(KitError):
    """While a fix was only being planned (dry run), it sent a write; the write did not run."""

    def __init__(self, call: str) -> None:
        super().__init__(f"while planning, remediation tried to write: {call}")
        self.call = call
