"""Wrapping a command in sudo so that the password travels on stdin only.

The wrapped command prints a random token to stderr before anything else. If the
token is missing, sudo itself refused, and the refusal is told apart from a
failing command without guessing from exit codes.

With a password, sudo prompts on stderr with a random marker. The password is
written only in answer to that prompt: when sudo does not ask (a NOPASSWD rule
for the command, or cached credentials), the command would read it instead.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from kit.connection.quoting import quote
from kit.connection.secrets import Secret

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
    prompt: bytes | None  # what sudo prints when it asks for the password

    @property
    def needs_password(self) -> bool:
        return self.prompt is not None


def wrap(command: str, mode: SudoMode, user: str | None = None) -> Wrapped:
    token = "HOSTKIT-SUDO-" + secrets.token_hex(8)
    inner = f"printf '%s\\n' {token} >&2; {command}"
    target = f"-u {quote(user)} " if user else ""
    prompt = None
    if mode is SudoMode.PASSWORD:
        # No "%" in the marker: sudo expands %-escapes in a prompt.
        prompt = f"HOSTKIT-PROMPT-{secrets.token_hex(8)}:"
        prefix = f"sudo -S -p {quote(prompt)} {target}"
    else:
        prefix = f"sudo -n {target}"
    return Wrapped(
        f"{prefix}-- sh -c {quote(inner)}",
        (token + "\n").encode(),
        prompt.encode() if prompt else None,
    )


def hops(command: str, users: Sequence[str]) -> str:
    """command as run through further sudo hops, outermost first, each from the user the
    hop before it left.

    The first hop of a nested switch goes through `wrap`, with the password on stdin. The
    later ones run with its rights (root's, mostly, which needs no password); `sudo -n`
    makes one that would ask for a password fail at once instead of waiting for it.
    """
    for user in reversed(users):
        target = "" if user == "root" else f"-u {quote(user)} "
        command = f"sudo -n {target}-- /bin/sh -c {quote(command)}"
    return command


class Input:
    """What a command reads on stdin, and for password sudo the password to answer its prompt.

    The password stays inside a Secret until the moment it is written, so no frame
    a traceback prints (with locals or not) holds it in a readable form.
    """

    __slots__ = ("data", "prompt", "secret", "token")

    def __init__(
        self,
        data: bytes | None,
        *,
        secret: Secret | None = None,
        prompt: bytes | None = None,
        token: bytes | None = None,
    ) -> None:
        self.data = data
        self.secret = secret
        self.prompt = prompt
        self.token = token

    def __repr__(self) -> str:
        size = "no data" if self.data is None else f"{len(self.data)} bytes"
        return f"Input({size}, password {'********' if self.secret else 'none'})"


def as_input(stdin: bytes | Input | None) -> Input | None:
    return stdin if isinstance(stdin, Input) or stdin is None else Input(stdin)


class Dialog:
    """Follows sudo's stderr and says what to write to the command's stdin, and when.

    The data waits for the token (sudo let the command run); the password goes
    only in answer to the first prompt; a second prompt means it was wrong, and
    stdin is closed so that sudo gives up instead of waiting.
    """

    def __init__(self, feed: Input) -> None:
        self.feed = feed
        self.waiting = feed.token is not None  # until sudo lets the command run
        self._answered = False

    def advance(
        self,
        err: bytes | bytearray,
        send_secret: Callable[[Secret], None],
        start_data: Callable[[], None],
        end_input: Callable[[], None],
    ) -> None:
        """Act on the stderr that has arrived so far; call again as more arrives."""
        if not self.waiting:
            return
        feed = self.feed
        assert feed.token is not None
        if feed.token in err:
            self.waiting = False
            start_data()
            return
        if feed.prompt is None or feed.secret is None:
            return
        prompts = err.count(feed.prompt)
        if prompts == 1 and not self._answered:
            self._answered = True
            send_secret(feed.secret)
        elif prompts > 1:
            self.waiting = False
            end_input()


def unwrap_stderr(stderr: bytes, token: bytes, prompt: bytes | None = None) -> bytes | None:
    """Strip the token (and sudo's prompt) from stderr; None when the token never appeared."""
    at = stderr.find(token)
    if at < 0:
        return None
    head = stderr[:at].replace(prompt, b"") if prompt else stderr[:at]
    return head + stderr[at + len(token) :]


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
