"""Connections to hosts: `kit.connect("ssh://user@host:port")`, `kit.connect("local://")`
or `kit.connect("nsenter://PID")`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kit.connection.base import Connection
from kit.connection.quoting import command, join, quote
from kit.connection.result import Result
from kit.connection.secrets import FromCallable, FromEnv, FromFile, Secret, SecretProvider
from kit.connection.spec import HostSpec, parse
from kit.errors import KitValueError

__all__ = [
    "Connection",
    "FromCallable",
    "FromEnv",
    "FromFile",
    "HostSpec",
    "Result",
    "Secret",
    "SecretProvider",
    "command",
    "connect",
    "join",
    "parse",
    "quote",
]

_SSH_OPTIONS = {
    "identity_file",
    "ssh_config",
    "known_hosts",
    "host_key_policy",
    "connect_timeout",
    "startup_timeout",
    "max_channels",
}
_COMMON_OPTIONS = {"sudo_password", "sudo_user", "command_timeout"}


def connect(
    spec: str | HostSpec,
    *,
    sudo_password: SecretProvider | Callable[[], str] | None = None,
    **options: Any,
) -> Connection:
    """Open a connection to the host a spec names.

    Options: identity_file, ssh_config, known_hosts, host_key_policy
    ("strict", "accept-new", "ignore"), sudo_password (a provider),
    sudo_user, connect_timeout, command_timeout, startup_timeout (how long the
    user's login shell may take to start, 60s by default) and max_channels (SSH
    channels open at once on one connection, 10 by default, as sshd's MaxSessions).
    """
    from kit.connection.secrets import provider

    host = parse(spec) if isinstance(spec, str) else spec
    unknown = set(options) - _SSH_OPTIONS - _COMMON_OPTIONS
    if unknown:
        raise KitValueError(f"unknown connection option(s): {', '.join(sorted(unknown))}")
    secret = provider(sudo_password)
    if host.scheme == "local":
        from kit.connection.local import LocalConnection

        common = {k: v for k, v in options.items() if k in _COMMON_OPTIONS}
        return LocalConnection(host, sudo_password=secret, **common)
    if host.scheme == "nsenter":
        from kit.connection.nsenter import NsenterConnection

        taken = _COMMON_OPTIONS | {"connect_timeout"}
        common = {k: v for k, v in options.items() if k in taken}
        return NsenterConnection(host, sudo_password=secret, **common)
    from kit.connection.ssh import SSHConnection

    return SSHConnection(host, sudo_password=secret, **options)
