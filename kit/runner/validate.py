"""Names are checked before they reach a host; a bad one raises KitValueError naming it."""

from __future__ import annotations

import posixpath
import re

from kit.errors import KitValueError

_RULES: dict[str, re.Pattern[str]] = {
    "sysctl key": re.compile(r"^[a-z0-9_][a-z0-9_.\-/*]*[a-z0-9_*]$", re.IGNORECASE),
    "module name": re.compile(r"^[A-Za-z0-9_-]{1,64}$"),
    "package name": re.compile(r"^[A-Za-z0-9][A-Za-z0-9+._:~-]*$"),
    "user name": re.compile(r"^[a-z_][a-z0-9_-]{0,31}\$?$"),
    "group name": re.compile(r"^[a-z_][a-z0-9_-]{0,31}\$?$"),
    "service name": re.compile(r"^[A-Za-z0-9:_.@-]{1,255}$"),
    "interface name": re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$"),
    "timezone": re.compile(r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$"),
    "repository name": re.compile(r"^[A-Za-z0-9_-]{1,64}$"),
    "hostname": re.compile(
        r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
    ),
}


def matches(kind: str, value: str) -> bool:
    """Whether value is a valid name of that kind.

    No name may start with "-": every tool would read it as an option.
    """
    return (
        isinstance(value, str)
        and not value.startswith("-")
        and _RULES[kind].fullmatch(value) is not None
    )


def name(kind: str, value: str) -> str:
    """Return value when it is a valid name of that kind, else raise KitValueError."""
    if not matches(kind, value):
        raise KitValueError(f"invalid {kind}: {value!r}")
    return value


_SCHEME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?/*")


def mask_url(url: str) -> str:
    """url with the password of its userinfo (or a userinfo without one) masked.

    Works on malformed URLs too (`https:/user:pw@host`), which urlsplit does not
    split into a password. It masks too much rather than too little: everything
    from the first ":" after the scheme to the last "@".
    """
    start = _SCHEME.match(url).end()  # type: ignore[union-attr]
    head = url[start:]
    at = head.rfind("@")
    if at == -1:
        return url
    user, colon, _ = head[:at].partition(":")
    if colon:
        return f"{url[:start]}{user}:***{head[at:]}"
    # No password: a bare userinfo is often a token; an "@" after a "/" is part of the path.
    return url if "/" in user else f"{url[:start]}***{head[at:]}"


def path(value: str) -> str:
    """An absolute path with no NUL and no newline (which would break line-based tools)."""
    if not isinstance(value, str) or not value.startswith("/") or "\0" in value or "\n" in value:
        raise KitValueError(f"invalid path (must be absolute, without NUL or newline): {value!r}")
    return value


def state_dir(value: str) -> str:
    """A directory the kit keeps its own state in (the fix lock, the run records), as its
    scripts name it: absolute, no `..` (which a link could send elsewhere), and normalised,
    so no trailing `/` or `.` through which a link reads as a directory."""
    if not isinstance(value, str) or not value.startswith("/") or "\0" in value or "\n" in value:
        raise KitValueError(f"{value!r}: give an absolute path without '..', NUL or newline")
    if ".." in value.split("/"):
        raise KitValueError(f"{value!r}: give an absolute path without '..', NUL or newline")
    return posixpath.normpath(value)
