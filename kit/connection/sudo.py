"""Wrapping a command in sudo so that the password travels on stdin only.

The wrapped command prints a random token to stderr before anything else. If the
token is missing, sudo itself refused, and the refusal is told apart from a
failing command without guessing from exit codes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import Enum

from kit.connection.quoting import quote

# One round trip tells what sudo needs: nothing (root), no password, or a password.
PROBE = (
    'if [ "$(id -u)" = 0 ]; then echo root; '
    "elif ! command -v sudo >/dev/null 2>&1; then echo missing; "
    "elif sudo -n true >/dev/null 2>&1; then echo nopasswd; "
    "else echo password; fi"
)


class SudoMode(Enum):
    ROOT = "root"
    NOPASSWD = "nopasswd"
    PASSWORD = "password"  # noqa: S105 - a mode name, not a secret
    MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Wrapped:
    command: str
    token: bytes
    needs_password: bool


def wrap(command: str, mode: SudoMode, user: str | None = None) -> Wrapped:
    token = "HOSTKIT-SUDO-" + secrets.token_hex(8)
    inner = f"printf '%s\\n' {token} >&2; {command}"
    target = f"-u {quote(user)} " if user else ""
    if mode is SudoMode.PASSWORD:
        # -k makes sudo always read the password line, so it never reaches the command.
        prefix = f"sudo -k -S -p '' {target}"
    else:
        prefix = f"sudo -n {target}"
    return Wrapped(
        f"{prefix}-- sh -c {quote(inner)}", (token + "\n").encode(), mode is SudoMode.PASSWORD
    )


def unwrap_stderr(stderr: bytes, token: bytes) -> bytes | None:
    """Strip the token from stderr; None when it never appeared (sudo refused)."""
    at = stderr.find(token)
    if at < 0:
        return None
    return stderr[:at] + stderr[at + len(token) :]


def refusal_reason(stderr: bytes) -> str:
    text = stderr.decode("utf-8", errors="replace").lower()
    if "incorrect password" in text or "sorry, try again" in text:
        return "incorrect password"
    if "a password is required" in text or "no password was provided" in text:
        return "a password is required"
    if "not in the sudoers" in text or "not allowed" in text or "may not run sudo" in text:
        return "user is not allowed to run this command"
    lines = [ln for ln in text.strip().splitlines() if ln.startswith("sudo")]
    return lines[-1] if lines else "sudo exited without running the command"
