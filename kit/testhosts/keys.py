"""Keys and the sudo password, made per run, written as private files.

Host keys are made before a host boots, so known_hosts is complete before the
first connection and every connection can verify the host's key.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True)
class KeyPair:
    private: bytes  # OpenSSH PEM
    public: str  # "ssh-ed25519 AAAA... comment"


def ed25519(comment: str) -> KeyPair:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return KeyPair(private, f"{public.decode()} {comment}")


def password() -> str:
    return secrets.token_urlsafe(18)


def known_hosts_line(address: str, port: int, public: str) -> str:
    field = address if port == 22 else f"[{address}]:{port}"
    keytype, blob = public.split()[:2]
    return f"{field} {keytype} {blob}\n"


def write_private(path: Path, data: bytes | str, mode: int = 0o600) -> None:
    """Write a file atomically, readable only by its owner from the first byte."""
    raw = data.encode() if isinstance(data, str) else data
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(fd, mode)
        os.write(fd, raw)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
