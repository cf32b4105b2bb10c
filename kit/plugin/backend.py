"""A testinfra backend over a hostkit connection.

testinfra builds its `host` fixture from backends named in a registry keyed by
URL scheme; hostkit registers itself there as `hostkit://` so that testinfra's own
`Host`, modules and parametrization run unchanged over the kit's connections.

What testinfra's own SSH backends do, this one does too: commands run in the
user's login shell (sshd runs `$SHELL -c`), text goes both ways in the host's
own encoding, and `host.sudo()`, `--sudo` and `--sudo-user` switch user. The
switch goes through the kit's sudo path, so a password travels on stdin only.
"""

from __future__ import annotations

from typing import Any

import testinfra.backend
from testinfra.backend.base import BaseBackend, CommandResult

from kit.connection import sudo
from kit.connection.quoting import quote
from kit.connection.spec import parse
from kit.errors import KitValueError, SudoError
from kit.plugin import batch, hosts, readonly
from kit.plugin.hosts import KIT_SCHEMES, HostContext, HostRegistry

SCHEME = "hostkit"
ROOT = "root"

# testinfra instantiates backends itself, with no way to hand them run-wide
# state; the plugin installs the run's registry here in pytest_configure.
_registry: HostRegistry | None = None


_THEIRS = dict(testinfra.backend.BACKENDS)


def install(registry: HostRegistry | None) -> None:
    """Make the connection types hostkit carries out itself come here while a run is active.

    Hosts of those named through testinfra itself (module-level `testinfra_hosts`,
    `testinfra.get_host`) then go through hostkit too; none runs on testinfra's own SSH
    or local backends behind the kit's back. The other types (docker, podman, kubectl,
    ...) stay testinfra's (kit.plugin.theirs).
    """
    global _registry
    _registry = registry
    hosts.activate(registry)
    backends = testinfra.backend.BACKENDS
    backends.clear()
    backends.update(_THEIRS)
    if registry is not None:
        # Not ansible: --hosts=ansible://... becomes the inventory's hosts here (runsetup),
        # and ansible:// left to testinfra is its own ansible backend (force_ansible).
        for name in KIT_SCHEMES:
            if name != "ansible":
                backends[name] = f"{__name__}.KitBackend"
    backends[SCHEME] = f"{__name__}.KitBackend"


class SudoCommand(str):
    """A command testinfra asked to run under sudo, kept apart from its sudo prefixes.

    testinfra switches user by wrapping `get_command`, composing command lines such as
    `sudo /bin/sh -c 'sudo -u www-data /bin/sh -c ...'` for nested `host.sudo()` blocks.
    The string reads the same as testinfra's (it shows in results and failures), while
    `inner` and `users` (outermost first) let the kit run it through its own sudo path:
    the first switch there, the later ones inside it, as testinfra's nesting does.
    """

    inner: str
    users: tuple[str, ...]

    def __new__(cls, inner: str, users: tuple[str, ...]) -> SudoCommand:
        shown = inner
        for user in reversed(users):
            prefix = "sudo /bin/sh -c" if user == ROOT else f"sudo -u {quote(user)} /bin/sh -c"
            shown = f"{prefix} {quote(shown)}"
        obj = super().__new__(cls, shown)
        obj.inner = inner
        obj.users = users
        return obj

    @property
    def user(self) -> str:
        """Who the kit's sudo path switches to: the outermost switch."""
        return self.users[0]

    @property
    def later(self) -> tuple[str, ...]:
        """The switches made inside the first one; a switch to the user already in effect
        (root inside root) changes nothing and is left out."""
        kept: list[str] = []
        current = self.users[0]
        for user in self.users[1:]:
            if user != current:
                kept.append(user)
                current = user
        return tuple(kept)


class KitBackend(BaseBackend):
    NAME = SCHEME

    def __init__(self, hostname: str | None = None, *args: Any, **kwargs: Any) -> None:
        if _registry is None:
            raise RuntimeError("the hostkit plugin is not active")
        if hostname is None:
            hostname = _registry.add(parse("local://")).key
        elif not _registry.has(hostname):
            found = _registry.resolve(hostname, **kwargs)
            if len(found) != 1:
                raise KitValueError(f"host {hostname!r} names {len(found)} hosts, not one")
            hostname = found[0].key
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
        if _registry is None:
            raise RuntimeError("the hostkit plugin is not active")
        # No host means the local machine, as with testinfra's local backend.
        if host is None or _registry.has(host):
            return [host]
        return [ctx.key for ctx in _registry.resolve(host, **kwargs)]

    def get_pytest_id(self) -> str:
        return self.context.label

    def get_hostname(self) -> str:
        return self.context.spec.name

    def get_sudo_command(self, command: str, sudo_user: str | None) -> str:
        # Nested host.sudo() blocks wrap from the inside out: each call adds the switch
        # made before the ones the command already has, as testinfra's own prefix would.
        user = sudo_user or ROOT
        if isinstance(command, SudoCommand):
            return SudoCommand(command.inner, (user, *command.users))
        return SudoCommand(command, (user,))

    def run(self, command: str, *args: str, **kwargs: Any) -> CommandResult:
        line = self.get_command(command, *args)
        inner = line.inner if isinstance(line, SudoCommand) else line
        # Bytes in the host's encoding, carried through the kit's text API unchanged.
        text = self.encode(inner).decode("utf-8", "surrogateescape")
        batcher = batch.active()
        if batcher is not None:
            user = line.user if isinstance(line, SudoCommand) else ""
            read = batch.is_read(command, args) or readonly.is_read_only(text)
            # A batch runs as one user; a nested switch's reads run live, its writes still
            # drop what the batch holds.
            if isinstance(line, SudoCommand) and line.later:
                if not read:
                    batcher.answer(self.context, user, text, read)
            else:
                found = batcher.answer(self.context, user, text, read)
                if found is not None:
                    return self.result(found[0], self.encode(line), found[1], found[2])
        if isinstance(line, SudoCommand):
            text = sudo.hops(text, line.later)
            try:
                res = self.context.conn.run(text, sudo=line.user)
            except SudoError as exc:
                # testinfra sees sudo refuse as a command that exits 1 with sudo's words.
                return self.result(1, self.encode(line), b"", f"{exc}\n".encode())
        elif self.context.spec.scheme == "ssh":
            # As sshd runs an exec request; the kit's pooled shell is /bin/sh.
            res = self.context.conn.run('exec "${SHELL:-/bin/sh}" -c %s', text)
        else:
            res = self.context.conn.run(text)
        return self.result(res.rc, self.encode(line), res.stdout_bytes, res.stderr_bytes)
