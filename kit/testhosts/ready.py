"""Waiting for a booted host: sshd answers, its host key verifies, systemd has settled."""

from __future__ import annotations

import socket
import time

import paramiko

from kit.testhosts.errors import BootTimeout, TestHostError
from kit.testhosts.state import Host
from kit.testhosts.tools import tail

_SETTLED = ("running", "degraded")


def wait(host: Host, timeout: float) -> str:
    """Block until the host is up; return `systemctl is-system-running` as seen."""
    deadline = time.monotonic() + timeout
    reason = "nothing listening yet"
    while time.monotonic() < deadline:
        if not host.alive():
            raise TestHostError(
                f"{host.name}: its process exited while booting; last console lines:\n"
                f"{tail(host.console)}"
            )
        try:
            if not _banner(host):
                reason = "sshd not answering yet"
                time.sleep(0.5)
                continue
            state = _systemd_state(host, max(5.0, deadline - time.monotonic()))
        except paramiko.BadHostKeyException as exc:
            raise TestHostError(f"{host.name}: host key does not match known_hosts: {exc}") from exc
        except (OSError, EOFError, paramiko.SSHException) as exc:
            if "not found in known_hosts" in str(exc):
                raise TestHostError(f"{host.name}: host key not in known_hosts") from exc
            reason = f"last attempt: {exc or type(exc).__name__}"
            time.sleep(0.5)
            continue
        if state in _SETTLED:
            return state
        reason = f"systemd is {state!r}"
        time.sleep(0.5)
    raise BootTimeout(host.name, timeout, tail(host.console), reason)


def _banner(host: Host) -> bool:
    """Whether sshd sends its banner: qemu's port forward accepts before sshd listens."""
    try:
        with socket.create_connection((host.address, host.port), timeout=2) as sock:
            sock.settimeout(5)
            return sock.recv(4) == b"SSH-"
    except OSError:
        return False


def _systemd_state(host: Host, timeout: float) -> str:
    client = paramiko.SSHClient()
    client.load_host_keys(host.known_hosts)
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            host.address,
            port=host.port,
            username="root",
            key_filename=host.identity_file,
            look_for_keys=False,
            allow_agent=False,
            timeout=5,
            banner_timeout=10,
            auth_timeout=10,
        )
        _, stdout, _ = client.exec_command("systemctl is-system-running --wait", timeout=timeout)
        return stdout.read().decode("utf-8", "replace").strip()
    finally:
        client.close()
