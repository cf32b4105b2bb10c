"""What ssh_config says about a host: HostName, User, Port, IdentityFile, ProxyJump,
StrictHostKeyChecking and UserKnownHostsFile."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path

import paramiko

from kit.connection.spec import HostSpec, parse
from kit.errors import KitValueError

DEFAULT_CONFIG = "~/.ssh/config"
_MAX_JUMPS = 8


@dataclass(frozen=True, slots=True)
class Target:
    """One hop, fully resolved: where to connect, as whom, with which keys."""

    alias: str  # the name the user wrote; errors and reports use it
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...] = ()
    jumps: tuple[Target, ...] = field(default=())  # outermost first
    known_hosts: str | None = None  # UserKnownHostsFile, when the config sets one
    host_key_policy: str | None = None  # from StrictHostKeyChecking, when the config sets it


# OpenSSH's values; "ask" has no one to ask here, so it refuses as "yes" does.
_STRICTNESS = {"yes": "strict", "ask": "strict", "accept-new": "accept-new", "no": "ignore"}
_STRICTNESS["off"] = "ignore"


def load(path: str | os.PathLike[str] | None) -> paramiko.SSHConfig:
    """The given file (which must exist), else ~/.ssh/config when present, else nothing."""
    if path is None:
        default = Path(DEFAULT_CONFIG).expanduser()
        return (
            paramiko.SSHConfig.from_path(str(default))
            if default.is_file()
            else paramiko.SSHConfig()
        )
    file = Path(path).expanduser()
    try:
        return paramiko.SSHConfig.from_path(str(file))
    except OSError as exc:
        raise KitValueError(f"cannot read ssh_config {file}: {exc.strerror}") from None


def resolve(spec: HostSpec, config: paramiko.SSHConfig, *, depth: int = 0) -> Target:
    """Apply config to a spec; values in the spec win over the config's."""
    found = config.lookup(spec.host)
    try:
        port = spec.port or int(found.get("port", 22))
    except ValueError:
        raise KitValueError(f"ssh_config: invalid Port for {spec.host}") from None
    user = spec.user or found.get("user") or getpass.getuser()
    identities = tuple(str(Path(p).expanduser()) for p in found.get("identityfile", []))
    jumps: tuple[Target, ...] = ()
    proxy = found.get("proxyjump")
    if proxy and proxy.lower() != "none":
        if depth >= _MAX_JUMPS:
            raise KitValueError(f"ssh_config: ProxyJump chain for {spec.host} is too long")
        hops: list[Target] = []
        for hop in proxy.split(","):
            jump = resolve(parse(hop.strip()), config, depth=depth + 1)
            # A hop's own jumps come before it, as OpenSSH chains them.
            hops.extend(jump.jumps)
            hops.append(
                Target(jump.alias, jump.hostname, jump.port, jump.user, jump.identity_files)
            )
        jumps = tuple(hops)
    known = found.get("userknownhostsfile")
    known_hosts = str(Path(known.split()[0]).expanduser()) if known else None
    strictness = found.get("stricthostkeychecking")
    policy = _STRICTNESS.get(strictness.lower()) if strictness else None
    if strictness and policy is None:
        raise KitValueError(
            f"ssh_config: invalid StrictHostKeyChecking {strictness!r} for {spec.host}"
        )
    if policy == "accept-new" and known_hosts == os.devnull:
        # Nothing can be recorded there: every key is accepted and none kept, as with "no".
        policy = "ignore"
    return Target(
        spec.host,
        found.get("hostname", spec.host),
        port,
        user,
        identities,
        jumps,
        known_hosts,
        policy,
    )
