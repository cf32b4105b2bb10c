"""Verifying a host's key against known_hosts, the way OpenSSH does.

A key on record that differs from the one offered is always refused, whatever
the policy short of "ignore": that is the one case where the host may be an
impostor. An unknown key is refused (strict), recorded (accept-new), or let
through with a warning (ignore).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import tempfile
import threading
import warnings
from pathlib import Path

import paramiko

from kit.errors import HostKeyRejected, KitValueError

POLICIES = ("strict", "accept-new", "ignore")
log = logging.getLogger(__name__)
_append_lock = threading.Lock()


def fingerprint(key: paramiko.PKey) -> str:
    digest = hashlib.sha256(key.asbytes()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def entry_name(host: str, port: int) -> str:
    """The name known_hosts records a host under: bare for port 22, else [host]:port."""
    return host if port == 22 else f"[{host}]:{port}"


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise KitValueError(f"host_key_policy must be one of {', '.join(POLICIES)}: {policy!r}")
    return policy


def _family(keytype: str) -> str:
    # An RSA key is recorded as ssh-rsa but negotiated under its signature names.
    return "ssh-rsa" if keytype in ("ssh-rsa", "rsa-sha2-256", "rsa-sha2-512") else keytype


class KnownHosts:
    """One known_hosts file: lookups (plain or hashed entries) and atomic appends."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    def recorded(self, name: str) -> dict[str, paramiko.PKey]:
        """Keys on record for name, by key type. Hashed entries match too."""
        keys = paramiko.HostKeys()
        try:
            keys.load(str(self.path))
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise KitValueError(f"cannot read known_hosts {self.path}: {exc.strerror}") from None
        found = keys.lookup(name)
        return {_family(t): k for t, k in found.items()} if found else {}

    def preferred_types(self, name: str, offered: list[str]) -> list[str]:
        """Put key types on record first, so the host shows the key we can check."""
        recorded = set(self.recorded(name))
        first = [t for t in offered if _family(t) in recorded]
        return first + [t for t in offered if t not in first]

    def verify(self, host: str, name: str, key: paramiko.PKey, policy: str) -> None:
        """Accept the key, record it, or raise HostKeyRejected naming host and fingerprint."""
        print_ = fingerprint(key)
        if policy == "ignore":
            message = (
                f"{host}: host key not verified (host_key_policy='ignore'), "
                f"{_family(key.get_name())} {print_}"
            )
            log.warning(message)
            warnings.warn(message, stacklevel=4)
            return
        recorded = self.recorded(name)
        known = recorded.get(_family(key.get_name()))
        if known is not None:
            if known.asbytes() == key.asbytes():
                return
            raise HostKeyRejected(
                host,
                f"host key for {name} CHANGED from the one in {self.path}; refusing to connect "
                f"(on record {fingerprint(known)})",
                print_,
            )
        if recorded:
            # Keys of other types are on record: a new type is as suspect as a change.
            raise HostKeyRejected(
                host,
                f"host offered a {key.get_name()} key but {self.path} records only "
                f"{', '.join(sorted(recorded))} for {name}",
                print_,
            )
        if policy == "strict":
            raise HostKeyRejected(host, f"unknown host key for {name}, not in {self.path}", print_)
        self.append(name, key)
        log.info("%s: recorded new host key %s in %s", host, print_, self.path)

    def append(self, name: str, key: paramiko.PKey) -> None:
        """Add one entry; write a whole new file and rename it over the old one."""
        line = f"{name} {key.get_name()} {key.get_base64()}\n".encode()
        with _append_lock:
            try:
                old = self.path.read_bytes()
                mode = self.path.stat().st_mode & 0o7777
            except FileNotFoundError:
                old, mode = b"", 0o600
                self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if old and not old.endswith(b"\n"):
                old += b"\n"
            fd, tmp = tempfile.mkstemp(prefix=".known_hosts.", dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(old + line)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, mode)
                os.replace(tmp, self.path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
