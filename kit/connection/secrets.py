"""Providers for secrets such as the sudo password.

A secret is fetched when it is needed and handed straight to a process's stdin;
nothing here keeps it in a printable form.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from kit.errors import KitError, KitValueError


class Secret:
    """A string that will not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if "\n" in value or "\r" in value:
            raise KitValueError("a sudo password cannot contain a line break")
        self._value = value

    def reveal(self) -> str:
        return self._value

    def write_line(self, write: Callable[[bytes], object]) -> None:
        """Pass the secret and a newline to write, the only place the bytes exist.

        A failure is raised afresh, without the frames (write's among them) whose
        locals held the bytes, so no traceback can print them.
        """
        kind: type[BaseException] | None = None
        try:
            write((self._value + "\n").encode())
        except Exception:
            kind = OSError
        except BaseException as exc:  # ^C or exit while writing: keep its kind
            kind = type(exc)
        if kind is not None:
            raise kind("writing a secret failed")

    def __repr__(self) -> str:
        return "Secret(********)"

    __str__ = __repr__


class SecretProvider:
    """Where a secret comes from. Subclasses say how to fetch it."""

    def get(self) -> Secret:
        raise NotImplementedError


class FromEnv(SecretProvider):
    def __init__(self, name: str) -> None:
        if not name or "=" in name:
            raise KitValueError(f"invalid environment variable name {name!r}")
        self.name = name

    def get(self) -> Secret:
        value = os.environ.get(self.name)
        if value is None:
            raise KitError(f"environment variable {self.name} is not set")
        return Secret(value)

    def __repr__(self) -> str:
        return f"FromEnv({self.name!r})"


class FromFile(SecretProvider):
    """The first line of a file; a trailing newline is not part of the secret."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def get(self) -> Secret:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KitError(f"cannot read secret file {self.path}: {exc.strerror}") from None
        return Secret(text.splitlines()[0] if text else "")

    def __repr__(self) -> str:
        return f"FromFile({str(self.path)!r})"


class FromCallable(SecretProvider):
    def __init__(self, fn: Callable[[], str]) -> None:
        self.fn = fn

    def get(self) -> Secret:
        return Secret(self.fn())

    def __repr__(self) -> str:
        return "FromCallable(...)"


def provider(value: SecretProvider | Callable[[], str] | None) -> SecretProvider | None:
    """Accept a provider or a callable. A plain string is refused: it would be a literal secret."""
    if value is None or isinstance(value, SecretProvider):
        return value
    if isinstance(value, str | bytes):
        raise KitValueError(
            "sudo_password takes a provider (FromEnv, FromFile, FromCallable or a callable), "
            "not a literal string"
        )
    if callable(value):
        return FromCallable(value)
    raise KitValueError(f"sudo_password: unsupported provider of type {type(value).__name__}")
