"""Host specs: `local://` and `ssh://[user@]host[:port]`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from kit.errors import KitValueError

SCHEMES = ("local", "ssh")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?$")


@dataclass(frozen=True, slots=True)
class HostSpec:
    scheme: str
    host: str = ""
    user: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        if self.scheme == "local":
            return "local://"
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{host}{port}"

    @property
    def name(self) -> str:
        """A short label for reports: the host as the user wrote it."""
        return "local" if self.scheme == "local" else self.host


def parse(spec: str) -> HostSpec:
    """Parse a host spec; a bare name means ssh. Raise KitValueError naming what is wrong."""
    text = spec.strip()
    if not text:
        raise KitValueError("empty host spec")
    if text in ("local", "local://"):
        return HostSpec("local")
    if "://" not in text:
        text = "ssh://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        # urlsplit checks a bracketed [host] is an IPv6 address and raises its own error.
        raise KitValueError(f"host spec {spec!r}: invalid host name") from None
    if parts.scheme not in SCHEMES:
        raise KitValueError(
            f"host spec {spec!r}: unknown scheme {parts.scheme!r}; use ssh:// or local://"
        )
    if parts.scheme == "local":
        raise KitValueError(f"host spec {spec!r}: local:// takes no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise KitValueError(f"host spec {spec!r}: unexpected path or query")
    if parts.password is not None:
        raise KitValueError(f"host spec {spec!r}: passwords do not belong in host specs")
    host = parts.hostname or ""
    if not host or not (_HOSTNAME.match(host) or _is_ipv6(host)):
        raise KitValueError(f"host spec {spec!r}: invalid host name {host!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise KitValueError(f"host spec {spec!r}: invalid port") from exc
    if port == 0:
        raise KitValueError(f"host spec {spec!r}: invalid port 0")
    user = unquote(parts.username) if parts.username else None
    if user is not None and not _USER.match(user):
        raise KitValueError(f"host spec {spec!r}: invalid user name {user!r}")
    return HostSpec("ssh", host, user, port)


def _is_ipv6(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host).version == 6
    except ValueError:
        return False
