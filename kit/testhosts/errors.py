"""Why disposable test hosts could not be had, each with a message that says what to do."""

from __future__ import annotations

from kit.errors import KitError


class TestHostError(KitError):
    """A disposable test host could not be built, started or stopped."""

    __test__ = False  # not a pytest test class, despite the name


class NotRoot(TestHostError):
    def __init__(self) -> None:
        super().__init__(
            "test hosts need root (network namespaces, overlay mounts, systemd-nspawn)"
        )


class ToolMissing(TestHostError):
    def __init__(self, tool: str, package: str) -> None:
        super().__init__(f"{tool} not found: install the Debian package {package!r}")
        self.tool = tool
        self.package = package


class NoFreePort(TestHostError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"no free port on 127.0.0.1 for the VM's ssh: {reason}")


class StepFailed(TestHostError):
    """A command the kit ran to build or start hosts failed; carries its stderr's tail."""

    def __init__(self, what: str, rc: int, stderr: str) -> None:
        tail = "\n".join(stderr.strip().splitlines()[-15:])
        super().__init__(f"{what} failed (exit {rc}):\n{tail}" if tail else f"{what} failed")
        self.rc = rc


class BootTimeout(TestHostError, TimeoutError):
    def __init__(self, host: str, timeout: float, console_tail: str, reason: str = "") -> None:
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"{host} did not answer over ssh within {timeout:g}s{why}; "
            f"last console lines:\n{console_tail or '(console log empty)'}"
        )
        self.host = host
        self.timeout = timeout
        self.console_tail = console_tail
