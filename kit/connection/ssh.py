"""Commands on a remote host over SSH (paramiko), one transport per host.

Commands without stdin go through a small pool of long-lived shells (see
session.py), so each costs one round trip. A command with stdin (every sudo
with a password among them) gets an exec channel of its own. Shells and exec
channels together stay within max_channels, as sshd allows only so many
sessions on one connection; commands past the limit wait for a channel, and
one whose channel sshd refuses (it frees slots a moment late) tries again, as
a refused channel ran nothing. When the transport is found dead, the next
command reconnects once; a command that was running when it died is reported
as failed and never run again.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import paramiko

from kit.connection import hostkeys, session, sshconfig, sudo
from kit.connection.base import Connection
from kit.connection.secrets import SecretProvider
from kit.connection.spec import HostSpec
from kit.errors import (
    AuthenticationFailed,
    CommandNotStarted,
    CommandTimeout,
    HostUnreachable,
    KitValueError,
    SessionStartTimeout,
    WriteInterrupted,
)

log = logging.getLogger(__name__)

DEFAULT_KNOWN_HOSTS = "~/.ssh/known_hosts"
DEFAULT_IDENTITIES = ("~/.ssh/id_ed25519", "~/.ssh/id_ecdsa", "~/.ssh/id_rsa")
# How long sshd may refuse channels while none other of ours is open: its slots
# free within moments of our closes, so a longer refusal has another cause.
_REFUSED_ALONE = 5.0
# How often an idle connection's reader thread wakes (paramiko's own: 0.1 s).
IDLE_WAKE = 1.0

_T = TypeVar("_T")


class CommandDropped(HostUnreachable):
    """The connection dropped while a command ran; it was not run again."""


class SSHConnection(Connection):
    def __init__(
        self,
        spec: HostSpec,
        *,
        sudo_password: SecretProvider | None = None,
        sudo_user: str | None = None,
        command_timeout: float | None = None,
        identity_file: str | os.PathLike[str] | None = None,
        ssh_config: str | os.PathLike[str] | None = None,
        known_hosts: str | os.PathLike[str] | None = None,
        host_key_policy: str | None = None,
        connect_timeout: float | None = None,
        startup_timeout: float | None = None,
        max_channels: int = 10,
        max_sessions: int = 4,
    ) -> None:
        super().__init__(
            spec,
            sudo_password=sudo_password,
            sudo_user=sudo_user,
            command_timeout=command_timeout,
        )
        self.target = sshconfig.resolve(spec, sshconfig.load(ssh_config))
        # The kit's own options first, then what the user's ssh_config says, then strict;
        # a config that turns verification off gets the warning "ignore" always gives.
        self._policy = hostkeys.check_policy(
            host_key_policy or self.target.host_key_policy or "strict"
        )
        self._known = hostkeys.KnownHosts(
            known_hosts or self.target.known_hosts or DEFAULT_KNOWN_HOSTS
        )
        self._identity = Path(identity_file).expanduser() if identity_file else None
        self._connect_timeout = connect_timeout if connect_timeout is not None else 15.0
        self._startup_timeout = startup_timeout if startup_timeout is not None else 60.0
        if isinstance(max_channels, bool) or not isinstance(max_channels, int) or max_channels < 2:
            raise KitValueError(f"max_channels must be an integer, at least 2: {max_channels!r}")
        # sshd refuses sessions past its MaxSessions (10 by default). One channel stays
        # free for killing a timed-out command, which needs one while its own is busy.
        self._cap = max_channels - 1
        self._kill_slot = threading.Lock()
        self._max_sessions = max(1, min(max_sessions, self._cap))
        self._channels = 0  # open command channels: shells (idle or busy) and exec channels
        self._lock = threading.Condition()
        self._transport: paramiko.Transport | None = None
        self._hops: list[paramiko.Transport] = []  # jump hosts' transports, outermost first
        self._idle: list[session.ShellSession] = []
        self._sessions = 0  # open shells, idle or busy
        self._shell_ok = True  # False once the host proved it cannot run the shell
        self._closed = False
        self._local = threading.local()  # per thread: is the running command under sudo?
        with self._lock:
            self._connect()

    # -- state -----------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether the transport is up now (a dropped one is noticed within moments)."""
        transport = self._transport
        return transport is not None and transport.is_active()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._teardown()

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
        try:
            super().put(data, path, mode=mode, owner=owner, group=group, sudo=sudo)
        except CommandDropped as exc:
            raise WriteInterrupted(
                f"{self.name}: connection dropped while writing {path}; the write was not "
                "repeated (the destination holds the old content or the new, not a mix)"
            ) from exc

    # -- commands --------------------------------------------------------------

    def _exec(
        self, cmdline: str, *, stdin: bytes | sudo.Input | None, timeout: float | None
    ) -> tuple[int, bytes, bytes]:
        transport = self._live_transport()
        if getattr(self._local, "sudo", False):
            kill = self._sudo_killer(transport)
        else:
            kill = self._killer(transport)
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            if stdin is None and self._shell_ok:
                shell = self._acquire(transport, deadline)
                if shell is not None:
                    try:
                        left = None if deadline is None else max(0.0, deadline - time.monotonic())
                        return shell.run(cmdline, left, kill)
                    finally:
                        self._release(shell)
            self._take_channel()
            try:
                return self._until_accepted(
                    lambda: session.exec_channel(
                        transport, cmdline, stdin, timeout, self._connect_timeout, kill
                    ),
                    deadline,
                )
            finally:
                self._give_channel()
        except session.Timeout:
            raise CommandTimeout(cmdline, timeout or 0) from None
        except session.Dropped:
            raise CommandDropped(
                self.name, "connection dropped while a command ran; it was not repeated"
            ) from None
        except session.NotStarted as exc:
            raise CommandNotStarted(self.name, str(exc)) from None
        except session.StartTimeout:
            raise SessionStartTimeout(self.name, self._startup_timeout) from None

    def _exec_sudo(
        self, cmdline: str, stdin: bytes | None, timeout: float | None, user: str | None = None
    ) -> tuple[int, bytes, bytes]:
        # A command sudo runs belongs to root: only sudo can kill it on a timeout.
        self._local.sudo = True
        try:
            return super()._exec_sudo(cmdline, stdin, timeout, user)
        finally:
            self._local.sudo = False

    def _killer(self, transport: paramiko.Transport) -> session.Killer:
        def kill(pid: int) -> None:
            with self._kill_slot:
                session.kill_group(transport, pid)

        return kill

    def _sudo_killer(self, transport: paramiko.Transport) -> session.Killer:
        mode = self._sudo_mode
        if mode not in (sudo.SudoMode.PASSWORD, sudo.SudoMode.NOPASSWD):
            return self._killer(transport)

        def kill(pid: int) -> None:
            wrapped = sudo.wrap(session.kill_script(pid), mode, self._sudo_user)
            feed = None
            if wrapped.needs_password and self._sudo_password is not None:
                feed = sudo.Input(
                    None,
                    secret=self._sudo_password.get(),
                    prompt=wrapped.prompt,
                    token=wrapped.token,
                )
            with (
                self._kill_slot,
                contextlib.suppress(session.Dropped, session.Timeout, session.Refused),
            ):
                session.patiently(
                    lambda: session.exec_channel(
                        transport, wrapped.command, feed, 10, self._connect_timeout
                    ),
                    time.monotonic() + 10,
                )

        return kill

    def _take_channel(self) -> None:
        """Count one more channel, closing an idle shell or waiting when at the cap."""
        with self._lock:
            while self._channels >= self._cap:
                if self._idle:
                    self._idle.pop().close()
                    self._sessions -= 1
                    self._channels -= 1
                else:
                    self._lock.wait()
            self._channels += 1

    def _give_channel(self) -> None:
        with self._lock:
            self._channels -= 1
            self._lock.notify_all()

    def _until_accepted(self, attempt: Callable[[], _T], deadline: float | None) -> _T:
        """attempt(), again while sshd refuses its channel, until sshd takes it or it is no use.

        sshd frees a session's slot only once it has reaped the session (a closed
        shell's sh must exit first), a moment after the channel closed; an open in
        that moment is refused though this side is within MaxSessions. A refused open
        ran nothing, so it is tried again after closing an idle shell of ours, or once
        a channel of ours closes or a short pause ends. It gives up at the deadline,
        or when sshd has refused for a while with no other channel of ours open whose
        slot could still be freeing. The caller's channel stays counted meanwhile, so
        the commands waiting for a channel do not pile in.
        """
        pause = session.REFUSED_PAUSE
        alone_since: float | None = None
        while True:
            try:
                return attempt()
            except session.Refused as exc:
                reason = str(exc)
            now = time.monotonic()
            with self._lock:
                # An idle shell holds a slot no one uses: give it up (sshd's MaxSessions
                # may be below max_channels, when only the slots we free can be had).
                if self._idle:
                    self._idle.pop().close()
                    self._sessions -= 1
                    self._channels -= 1
                if self._channels > 1:
                    alone_since = None
                elif alone_since is None:
                    alone_since = now
                if alone_since is not None and now - alone_since >= _REFUSED_ALONE:
                    raise session.NotStarted(
                        f"the host refused every new channel for {_REFUSED_ALONE:g}s ({reason})"
                    )
                if deadline is not None and now >= deadline:
                    raise session.NotStarted(
                        f"the host refused a new channel until the timeout ({reason})"
                    )
                wait = pause if deadline is None else min(pause, deadline - now)
                self._lock.wait(wait)
            pause = min(pause * 2, session.REFUSED_MAX_PAUSE)

    def _live_transport(self) -> paramiko.Transport:
        with self._lock:
            if self._closed:
                raise KitValueError(f"connection to {self.name} is closed")
            if self._transport is None or not self._transport.is_active():
                log.info("%s: transport down, reconnecting", self.name)
                self._teardown()
                self._connect()
            assert self._transport is not None
            return self._transport

    def _acquire(
        self, transport: paramiko.Transport, deadline: float | None
    ) -> session.ShellSession | None:
        """An idle shell, a new one while under the limits, or wait for one to free up."""
        with self._lock:
            while True:
                while self._idle:
                    shell = self._idle.pop()
                    if shell.transport is transport and shell.usable():
                        return shell
                    shell.close()
                    self._sessions -= 1
                    self._channels -= 1
                if self._sessions < self._max_sessions and self._channels < self._cap:
                    self._sessions += 1
                    self._channels += 1
                    break
                self._lock.wait()
        try:
            return self._until_accepted(
                lambda: session.ShellSession(
                    transport, self._connect_timeout, self._startup_timeout, deadline
                ),
                deadline,
            )
        except session.NoShell:
            log.info("%s: no setsid or mkfifo on the host; one channel per command", self.name)
            self._shell_ok = False
            self._forget_one()
            return None
        except BaseException:
            self._forget_one()
            raise

    def _release(self, shell: session.ShellSession) -> None:
        with self._lock:
            if shell.usable() and shell.transport is self._transport and not self._closed:
                self._idle.append(shell)
                self._lock.notify_all()
                return
        shell.close()
        self._forget_one()

    def _forget_one(self) -> None:
        with self._lock:
            self._sessions -= 1
            self._channels -= 1
            self._lock.notify_all()

    # -- connecting ------------------------------------------------------------

    def _connect(self) -> None:
        """Open the transport, through each ProxyJump hop in turn. Caller holds the lock."""
        hops: list[paramiko.Transport] = []
        try:
            channel: paramiko.Channel | None = None
            for hop in self.target.jumps:
                hops.append(self._open(hop, channel))
                channel = self._tunnel(hops[-1], hop, self.target)
            self._transport = self._open(self.target, channel)
            self._hops = hops
        except BaseException:
            for t in hops:
                t.close()
            raise

    def _tunnel(
        self, via: paramiko.Transport, hop: sshconfig.Target, final: sshconfig.Target
    ) -> paramiko.Channel:
        jumps = self.target.jumps
        after = jumps[jumps.index(hop) + 1] if hop is not jumps[-1] else final
        try:
            return via.open_channel(
                "direct-tcpip",
                (after.hostname, after.port),
                ("127.0.0.1", 0),
                timeout=self._connect_timeout,
            )
        except (paramiko.SSHException, OSError, EOFError) as exc:
            raise HostUnreachable(
                after.alias,
                f"jump host {hop.alias} could not reach {after.hostname}:{after.port}: "
                f"{_reason(exc)}",
            ) from None

    def _open(
        self, target: sshconfig.Target, channel: paramiko.Channel | None
    ) -> paramiko.Transport:
        where = f"{target.hostname}:{target.port}"
        sock: socket.socket | paramiko.Channel
        if channel is None:
            try:
                sock = socket.create_connection(
                    (target.hostname, target.port), timeout=self._connect_timeout
                )
            except socket.gaierror as exc:
                raise HostUnreachable(
                    target.alias, f"cannot resolve {target.hostname}: {exc.strerror}"
                ) from None
            except TimeoutError:
                raise HostUnreachable(
                    target.alias, f"no answer from {where} within {self._connect_timeout:g}s"
                ) from None
            except OSError as exc:
                raise HostUnreachable(target.alias, f"{where}: {_reason(exc)}") from None
        else:
            sock = channel
        transport = paramiko.Transport(sock)
        try:
            transport.banner_timeout = self._connect_timeout
            transport.auth_timeout = self._connect_timeout
            name = hostkeys.entry_name(target.hostname, target.port)
            options = transport.get_security_options()
            options.key_types = self._known.preferred_types(name, list(options.key_types))
            try:
                transport.start_client(timeout=self._connect_timeout)
                # start_client returns quietly when its timeout ends mid-handshake.
                server_key = transport.get_remote_server_key()
            except (paramiko.SSHException, OSError, EOFError) as exc:
                raise HostUnreachable(
                    target.alias,
                    f"SSH handshake with {where} failed (limit {self._connect_timeout:g}s): "
                    f"{_reason(exc)}",
                ) from None
            self._known.verify(target.alias, name, server_key, self._policy)
            self._authenticate(transport, target)
            transport.set_keepalive(30)
            # paramiko's reader thread wakes every 0.1 s to look for a close; with a
            # connection per host, an idle fleet of them takes the GIL from the checks
            # hundreds of times a second. Data wakes it at once however long this is.
            transport.sock.settimeout(IDLE_WAKE)
            return transport
        except BaseException:
            transport.close()
            raise

    def _authenticate(self, transport: paramiko.Transport, target: sshconfig.Target) -> None:
        tried = 0
        for key in self._keys(target):
            tried += 1
            try:
                transport.auth_publickey(target.user, key)
            except paramiko.BadAuthenticationType:
                break
            except paramiko.AuthenticationException:
                continue
            except (paramiko.SSHException, OSError, EOFError) as exc:
                raise AuthenticationFailed(
                    target.alias, f"authentication as {target.user} ended: {_reason(exc)}"
                ) from None
            if transport.is_authenticated():
                return
        raise AuthenticationFailed(
            target.alias,
            f"no key accepted for user {target.user} ({tried} tried); give the user's key "
            "with --ssh-identity-file (identity_file=) or load it into ssh-agent (ssh-add)",
        )

    def _keys(self, target: sshconfig.Target) -> list[paramiko.PKey]:
        """identity_file, then the config's IdentityFile, the agent, and ~/.ssh/id_*."""
        keys: list[paramiko.PKey] = []
        if self._identity is not None:
            keys.append(_load_key(self._identity, required=True))
        for path in target.identity_files:
            key = _load_key(Path(path), required=False)
            if key is not None:
                keys.append(key)
        with contextlib.suppress(paramiko.SSHException, OSError):
            keys.extend(paramiko.Agent().get_keys())
        if not target.identity_files and self._identity is None:
            for path in DEFAULT_IDENTITIES:
                key = _load_key(Path(path).expanduser(), required=False)
                if key is not None:
                    keys.append(key)
        return [k for k in keys if k is not None]

    def _teardown(self) -> None:
        """Close shells and transports. Caller holds the lock."""
        for shell in self._idle:
            shell.close()
        self._sessions -= len(self._idle)
        self._channels -= len(self._idle)
        self._idle.clear()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        for t in reversed(self._hops):
            t.close()
        self._hops = []
        self._lock.notify_all()


def _load_key(path: Path, *, required: bool) -> paramiko.PKey | None:
    try:
        return paramiko.PKey.from_path(path)
    except FileNotFoundError:
        if required:
            raise KitValueError(f"identity_file {path} does not exist") from None
    except paramiko.PasswordRequiredException:
        if required:
            raise KitValueError(
                f"identity_file {path} is encrypted; load it into ssh-agent instead"
            ) from None
    except (paramiko.SSHException, OSError, ValueError) as exc:
        if required:
            raise KitValueError(f"identity_file {path}: {_reason(exc)}") from None
    return None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
