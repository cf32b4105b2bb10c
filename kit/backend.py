"""A testinfra backend over a hostkit connection.

testinfra builds its `host` fixture from backends named in a registry keyed by
URL scheme; hostkit registers itself there as `hostkit://` so that testinfra's own
`Host`, modules and parametrization run unchanged over the kit's connections.
"""

from __future__ import annotations

from typing import Any

import testinfra.backend
from testinfra.backend.base import BaseBackend, CommandResult

from kit.connection.spec import parse
from kit.hosts import HostContext, HostRegistry

SCHEME = "hostkit"

# testinfra instantiates backends itself, with no way to hand them run-wide
# state; the plugin installs the run's registry here in pytest_configure.
_registry: HostRegistry | None = None


def install(registry: HostRegistry | None) -> None:
    global _registry
    _registry = registry
    testinfra.backend.BACKENDS[SCHEME] = f"{__name__}.KitBackend"


class KitBackend(BaseBackend):
    NAME = SCHEME

    def __init__(self, hostname: str | None = None, *args: Any, **kwargs: Any) -> None:
        if _registry is None:
            raise RuntimeError("the hostkit plugin is not active")
        if hostname is None:
            hostname = _registry.add(parse("local://")).key
        self.key = hostname
        super().__init__(self.context.label, *args, **kwargs)

    @property
    def context(self) -> HostContext:
        # Looked up on each use: testinfra keeps Host objects (and so backends) across
        # pytest sessions in one process, while each session has a registry of its own.
        if _registry is None:
            raise RuntimeError("the hostkit plugin is not active")
        return _registry.get(self.key)

    @classmethod
    def get_hosts(cls, host: str | None, **kwargs: Any) -> list[str | None]:  # type: ignore[override]
        # No host means the local machine, as with testinfra's local backend.
        return [host]

    def get_pytest_id(self) -> str:
        return self.context.label

    def get_hostname(self) -> str:
        return self.context.spec.name

    def get_encoding(self) -> str:
        # Spares the round trip testinfra spends asking the host's Python.
        return "utf-8"

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        res = self.context.conn.run(command, *args, sudo=self.sudo)
        return self.result(res.rc, self.encode(res.command), res.stdout_bytes, res.stderr_bytes)
