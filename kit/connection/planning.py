"""The connection a remediation gets under --dry-run: reads go through, writes are refused.

Dry run then no longer rests on every remediation passing `dry_run` to every runner
call: one that forgets fails with PlanWriteError naming the write, before it reaches
the host. The runner sends what only reads with `Connection.read`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from kit.connection import sudo
from kit.connection.base import Connection
from kit.connection.quoting import command as fill
from kit.connection.result import Result
from kit.errors import PlanWriteError

# Long scripts would make the error many lines long; their opening names them well enough.
_SHOWN = 300


class PlanningConnection(Connection):
    """Wraps a connection for planning: `read` passes through; `run` and `put` raise
    PlanWriteError. Anything else (spec, name, options) is the wrapped connection's."""

    def __init__(self, conn: Connection) -> None:
        # Not Connection.__init__: every attribute it would set comes from the wrapped one.
        self._wrapped = conn

    def __getattr__(self, attr: str) -> Any:
        if attr == "_wrapped":  # before __init__ ran (copy, pickle): no recursion
            raise AttributeError(attr)
        return getattr(self._wrapped, attr)

    @property
    def wrapped(self) -> Connection:
        return self._wrapped

    def read(
        self,
        cmd: str,
        *args: str | int | os.PathLike[str],
        sudo: bool = False,
        stdin: bytes | str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        return self._wrapped.read(cmd, *args, sudo=sudo, stdin=stdin, timeout=timeout, env=env)

    def run(
        self,
        cmd: str,
        *args: str | int | os.PathLike[str],
        sudo: bool = False,
        stdin: bytes | str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        raise PlanWriteError(_shown(fill(cmd, *args)))

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
        raise PlanWriteError(_shown(f"put {path}"))

    def _exec(
        self, cmdline: str, *, stdin: bytes | sudo.Input | None, timeout: float | None
    ) -> tuple[int, bytes, bytes]:
        raise PlanWriteError(_shown(cmdline))

    def close(self) -> None:
        """The wrapped connection belongs to the run, not to the remediation planning on it."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._wrapped!r}>"


def _shown(call: str) -> str:
    flat = re.sub(r"\s+", " ", call).strip()
    return flat if len(flat) <= _SHOWN else flat[: _SHOWN - 3] + "..."
