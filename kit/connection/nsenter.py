"""Commands inside another process's namespaces: `nsenter://PID` (PID 1 by default).

A privileged pod with `hostPID: true` reaches its node this way: every command runs
through util-linux's nsenter in the mount, UTS, IPC, network, PID and cgroup namespaces
of PID, with its root and working directory, as root. Nothing is kept open between
commands; each is one nsenter, so a command sees the host as it is at that moment.

What the connection checks, since no handshake does it for it:
- at connect: this process is root, nsenter is installed, PID exists and can be entered;
- before each command: PID is still the process entered at connect (same start time,
  same namespaces). A container that restarted, or a pid handed to another process,
  ends the connection instead of running commands somewhere else.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import threading

from kit.connection.local import LocalConnection
from kit.connection.secrets import SecretProvider
from kit.connection.spec import HostSpec
from kit.errors import CommandNotStarted, CommandTimeout, ConnectError, HostUnreachable

# The namespaces entered, as /proc/PID/ns names them and as nsenter's options do.
NAMESPACES = {
    "mnt": "--mount",
    "uts": "--uts",
    "ipc": "--ipc",
    "net": "--net",
    "pid": "--pid",
    "cgroup": "--cgroup",
}
CONNECT_TIMEOUT = 30.0
# A shell inside the namespaces that lives as long as this connection: it prints its pid
# and start time as its pid namespace sees them, then waits for its stdin to end, which
# happens when the connection closes or this process dies, however it dies.
_ANCHOR = 'set -- $(sed "s/.*) //" /proc/$$/stat); echo "$$ ${20}"; read -r _ || :'


class NsenterConnection(LocalConnection):
    """Commands in the namespaces, root and working directory of one process, as root."""

    def __init__(
        self,
        spec: HostSpec,
        *,
        sudo_password: SecretProvider | None = None,
        sudo_user: str | None = None,
        command_timeout: float | None = None,
        connect_timeout: float | None = None,
    ) -> None:
        super().__init__(
            spec,
            sudo_password=sudo_password,
            sudo_user=sudo_user,
            command_timeout=command_timeout,
        )
        self.pid = int(spec.host)
        if os.geteuid() != 0:
            raise ConnectError(
                self.name,
                f"entering the namespaces of pid {self.pid} needs root; hostkit runs as uid "
                f"{os.geteuid()}",
            )
        found = shutil.which("nsenter")
        if found is None:
            raise ConnectError(self.name, "nsenter is not installed (util-linux)")
        self._nsenter = found
        self._anchor: subprocess.Popen[bytes] | None = None
        self._anchor_at: tuple[int, str] | None = None
        self._anchor_lock = threading.Lock()
        self._identity = self._read_identity()
        self._probe(connect_timeout or CONNECT_TIMEOUT)

    def holder(self) -> tuple[int, str]:
        """A process inside the host whose life bounds this connection: pid and start time
        as the host's pid namespace numbers them (kit.runner.hostlock).

        The controller itself is not one when the host's pid namespace is not its own (a
        container entered from outside), so the connection keeps a shell in there that
        ends when the connection or the controller does.
        """
        with self._anchor_lock:
            if self._anchor is None or self._anchor.poll() is not None:
                self._anchor_at = None
                self._anchor = subprocess.Popen(
                    self._argv(_ANCHOR),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
                assert self._anchor.stdout is not None
                words = self._anchor.stdout.readline().split()
                if len(words) != 2 or not all(w.isdigit() for w in words):
                    self._stop_anchor()
                    raise HostUnreachable(
                        self.name, f"cannot start a process inside pid {self.pid}'s namespaces"
                    )
                self._anchor_at = (int(words[0]), words[1].decode())
            assert self._anchor_at is not None
            return self._anchor_at

    def close(self) -> None:
        with self._anchor_lock:
            self._stop_anchor()
        super().close()

    def _stop_anchor(self) -> None:
        anchor, self._anchor = self._anchor, None
        if anchor is None:
            return
        for pipe in (anchor.stdin, anchor.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        try:
            anchor.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(anchor.pid, signal.SIGKILL)
            anchor.wait()

    def _argv(self, cmdline: str) -> list[str]:
        try:
            now = self._read_identity()
        except ConnectError as exc:
            raise HostUnreachable(self.name, exc.reason) from None
        if now != self._identity:
            raise HostUnreachable(
                self.name, f"pid {self.pid} is no longer the process this connection entered"
            )
        flags = [NAMESPACES[name] for name in NAMESPACES]
        # With --pid nsenter forks: the shell is its child, in the same process group,
        # so a timeout's signal to the group (LocalConnection) reaches both.
        return [
            self._nsenter,
            f"--target={self.pid}",
            *flags,
            "--root",
            "--wd",
            "--",
            "/bin/sh",
            "-c",
            cmdline,
        ]

    def _read_identity(self) -> tuple[str, ...]:
        """The process's start time and namespaces: what stays the same while it lives."""
        base = f"/proc/{self.pid}"
        try:
            with open(f"{base}/stat") as stat:
                start = stat.read().rpartition(")")[2].split()[19]
            links = [os.readlink(f"{base}/ns/{name}") for name in NAMESPACES]
        except FileNotFoundError:
            raise ConnectError(self.name, f"no process {self.pid}") from None
        except (OSError, IndexError) as exc:
            reason = getattr(exc, "strerror", None) or "unreadable"
            raise ConnectError(
                self.name, f"cannot read the namespaces of pid {self.pid}: {reason}"
            ) from None
        return (start, *links)

    def _probe(self, timeout: float) -> None:
        try:
            rc, _, err = self._exec("true", stdin=None, timeout=timeout)
        except CommandNotStarted as exc:
            raise ConnectError(self.name, f"cannot run nsenter: {exc.reason}") from None
        except CommandTimeout:
            raise ConnectError(
                self.name, f"entering the namespaces of pid {self.pid} took over {timeout:g}s"
            ) from None
        if rc != 0:
            lines = err.decode(errors="replace").strip().splitlines()
            why = lines[0] if lines else f"nsenter exited with {rc}"
            raise ConnectError(self.name, f"cannot enter the namespaces of pid {self.pid}: {why}")
