"""Running commands: the seed's Run, MustRun, Check and RunWithOptions."""

from __future__ import annotations

import os
from collections.abc import Mapping

from kit.connection import Connection

Arg = str | int | os.PathLike[str]


def run(
    conn: Connection, cmd: str, *args: Arg, sudo: bool = False, timeout: float | None = None
) -> str:
    """stdout of cmd (%s placeholders filled with quoted args); CommandError when it fails."""
    return conn.run(cmd, *args, sudo=sudo, timeout=timeout).check().stdout


def must_run(
    conn: Connection, cmd: str, *args: Arg, sudo: bool = False, timeout: float | None = None
) -> str:
    """run, for callers that treat a failure as a bug: stdout, or CommandError.

    Python has exceptions where Go has panics, so this is run by another name,
    kept for the callers that port code written against the seed's interface.
    """
    return run(conn, cmd, *args, sudo=sudo, timeout=timeout)


def check(
    conn: Connection, cmd: str, *args: Arg, sudo: bool = False, timeout: float | None = None
) -> bool:
    """Whether cmd exits 0. A timeout or a sudo refusal still raises: neither is an answer."""
    return conn.run(cmd, *args, sudo=sudo, timeout=timeout).ok


def run_with_options(
    conn: Connection,
    cmd: str,
    *args: Arg,
    sudo: bool = False,
    timeout: float | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | str | None = None,
) -> tuple[bytes, bytes]:
    """(stdout, stderr) as bytes; CommandError, carrying both, when cmd fails."""
    res = conn.run(cmd, *args, sudo=sudo, timeout=timeout, env=env, stdin=stdin).check()
    return res.stdout_bytes, res.stderr_bytes
