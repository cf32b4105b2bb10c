"""Reading a host through another tool's transport: testinfra's backend for a host hostkit
does not connect to itself (docker, podman, kubectl, salt, chroot, ...).

hostkit's checks run on such a host as testinfra's own tests do, through the same backend;
`read` goes through it, while `run` and `put` raise ReadOnlyHost: nothing of hostkit's
writes through a transport it does not own (and --fix refuses these hosts up front).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from kit.connection import sudo
from kit.connection.base import Connection
from kit.connection.quoting import command as fill
from kit.connection.result import Result
from kit.connection.spec import HostSpec
from kit.errors import KitError, ReadOnlyHost, SudoError

# Runs one command line under the tool's shell: (rc, stdout, stderr).
Transport = Callable[[str], tuple[int, bytes, bytes]]


class ForeignConnection(Connection):
    def __init__(self, spec: HostSpec, transport: Transport, kind: str) -> None:
        super().__init__(spec)
        self._transport = transport
        self.kind = kind

    def _exec(
        self, cmdline: str, *, stdin: bytes | sudo.Input | None, timeout: float | None
    ) -> tuple[int, bytes, bytes]:
        # testinfra's backends take neither input nor a time limit: a command that needs
        # input is refused, and one runs as long as the tool lets it.
        feed = sudo.as_input(stdin)
        if feed is not None and feed.secret is not None:
            raise SudoError(self.name, f"testinfra's {self.kind} backend cannot answer a password")
        if feed is not None and feed.data:
            raise KitError(f"{self.name}: testinfra's {self.kind} backend cannot send input")
        return self._transport(cmdline)

    def read(
        self,
        cmd: str,
        *args: str | int | os.PathLike[str],
        sudo: bool | str = False,
        stdin: bytes | str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        return super().run(cmd, *args, sudo=sudo, stdin=stdin, timeout=timeout, env=env)

    def run(
        self,
        cmd: str,
        *args: str | int | os.PathLike[str],
        sudo: bool | str = False,
        stdin: bytes | str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        raise ReadOnlyHost(str(self.spec), self.kind, fill(cmd, *args)[:200])

    def put(
        self,
        data: bytes,
        path: str,
        *,
        mode: int | str | None = None,
        owner: str | None = None,
        group: str | None = None,
        sudo: bool = False,
    ) -> None:
        raise ReadOnlyHost(str(self.spec), self.kind, f"put {path}")
