"""One connection and one facts gather per host for the whole run, shared by every check."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kit.connection import Connection, connect
from kit.connection.spec import HostSpec
from kit.errors import ConnectError
from kit.facts.model import Probes

if TYPE_CHECKING:
    from kit.facts import Facts


@dataclass
class HostContext:
    """A host's connection and facts, made on first use; a failed connect is remembered."""

    spec: HostSpec
    label: str
    key: str
    options: Mapping[str, Any]
    probes: Probes = field(default_factory=Probes)
    _conn: Connection | None = None
    _facts: Facts | None = None
    _error: ConnectError | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def conn(self) -> Connection:
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._conn is None:
                try:
                    self._conn = connect(self.spec, **self.options)
                except ConnectError as exc:
                    self._error = exc
                    raise
            return self._conn

    @property
    def facts(self) -> Facts:
        if self._facts is None:
            self._facts = self._gather()
        return self._facts

    def refresh_facts(self) -> Facts:
        self._facts = self._gather()
        return self._facts

    def _gather(self) -> Facts:
        from kit.facts import gather_facts

        return gather_facts(self.conn, probes=self.probes)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


class HostRegistry:
    """The hosts of one pytest run.

    Each host has a label, which appears in test ids and reports, and a short key
    that stands for it inside testinfra's `hostkit://KEY` specs.
    """

    def __init__(self, defaults: Mapping[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._hosts: dict[str, HostContext] = {}
        self._lock = threading.Lock()

    def add(self, spec: HostSpec, label: str | None = None, **options: Any) -> HostContext:
        label = label or str(spec)
        with self._lock:
            for ctx in self._hosts.values():
                if ctx.label == label:
                    return ctx
            merged = {**self.defaults, **{k: v for k, v in options.items() if v is not None}}
            if spec.scheme == "local":
                merged = {k: v for k, v in merged.items() if k in _LOCAL_OPTIONS}
            key = "local" if spec.scheme == "local" else f"h{len(self._hosts)}"
            ctx = HostContext(spec, label, key, merged)
            self._hosts[key] = ctx
            return ctx

    def get(self, key: str) -> HostContext:
        return self._hosts[key]

    def __iter__(self) -> Iterator[HostContext]:
        return iter(list(self._hosts.values()))

    def close(self) -> None:
        for ctx in self:
            ctx.close()


_LOCAL_OPTIONS = {"sudo_password", "sudo_user", "command_timeout"}
