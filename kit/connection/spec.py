"""Host specs: `local://`, `ssh://[user@]host[:port]` and `nsenter://[PID]`."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from kit.errors import KitValueError

SCHEMES = ("local", "ssh", "nsenter")
FORMS = "ssh://[user@]host[:port], local:// or nsenter://[PID]"
# The kernel's ceiling for pid_max (PID_MAX_LIMIT on 64-bit): no pid is above it.
MAX_PID = 4_194_304
_PID = re.compile(r"[1-9][0-9]{0,6}")
MAX_SPEC = 1024
_HOSTNAME = re.compile(r"(?=.{1,253}\Z)[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?")
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}\$?")
# An IPv6 zone is an interface name or number; the kernel caps names at 15 bytes.
_ZONE = re.compile(r"[A-Za-z0-9_.-]{1,15}")


@dataclass(frozen=True, slots=True)
class HostSpec:
    scheme: str
    host: str = ""
    user: str | None = None
    port: int | None = None

    def __str__(self) -> str:
        if self.scheme == "local":
            return "local://"
        if self.scheme != "ssh":
            # nsenter://PID, or a host of another tool's transport
            return f"{self.scheme}://{self.host}"
        user = f"{self.user}@" if self.user else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.port else ""
        return f"ssh://{user}{host}{port}"

    @property
    def name(self) -> str:
        """A short label for reports: the host as the user wrote it."""
        if self.scheme == "nsenter":
            return f"nsenter:{self.host}"
        return "local" if self.scheme == "local" else self.host


def parse(spec: str) -> HostSpec:
    """Parse a host spec; a bare name means ssh. Raise KitValueError naming what is wrong."""
    text = spec.strip()
    if not text:
        raise KitValueError("empty host spec")
    if len(text) > MAX_SPEC:
        raise KitValueError(f"host spec {text[:40]!r}...: longer than {MAX_SPEC} characters")
    # urlsplit silently drops tabs and newlines, so "no\nde" would read as "node".
    _refuse_unprintable(text, f"host spec {spec!r}", "")
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
        raise KitValueError(f"host spec {spec!r}: unknown scheme {parts.scheme!r}; use {FORMS}")
    if parts.scheme == "local":
        raise KitValueError(f"host spec {spec!r}: local:// takes no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise KitValueError(f"host spec {spec!r}: unexpected path or query")
    if parts.scheme == "nsenter":
        return _nsenter(parts.netloc, spec)
    if parts.password is not None:
        raise KitValueError(f"host spec {spec!r}: passwords do not belong in host specs")
    _, _, hostport = parts.netloc.rpartition("@")
    port_text = hostport.rpartition("]")[2] if hostport.startswith("[") else hostport
    port_text = port_text.partition(":")[2] if ":" in port_text else None
    if port_text is not None and not re.fullmatch(r"[0-9]{1,5}", port_text):
        raise KitValueError(f"host spec {spec!r}: invalid port {port_text!r}")
    user = unquote(parts.username) if parts.username else None
    return build(
        parts.hostname or "",
        user,
        int(port_text) if port_text is not None else None,
        where=f"host spec {spec!r}",
    )


def _nsenter(netloc: str, spec: str) -> HostSpec:
    """nsenter://PID: the process whose namespaces the commands enter; PID 1 when empty."""
    if "@" in netloc:
        raise KitValueError(f"host spec {spec!r}: nsenter:// takes no user; it runs as root")
    pid = netloc or "1"
    if not _PID.fullmatch(pid) or int(pid) > MAX_PID:
        raise KitValueError(f"host spec {spec!r}: invalid pid {pid!r}")
    return HostSpec("nsenter", pid)


def build(host: str, user: str | None, port: int | None, *, where: str) -> HostSpec:
    """An ssh HostSpec from its parts, each validated; where names the source in errors."""
    _refuse_unprintable(host, where, "host name")
    if not host or not (_HOSTNAME.fullmatch(host) or _is_ipv6(host)):
        raise KitValueError(f"{where}: invalid host name {host!r}")
    if user is not None:
        _refuse_unprintable(user, where, "user name")
        if not _USER.fullmatch(user):
            raise KitValueError(f"{where}: invalid user name {user!r}")
    if port is not None and (isinstance(port, bool) or not 0 < port < 65536):
        raise KitValueError(f"{where}: invalid port {port}")
    return HostSpec("ssh", host, user, port)


def _refuse_unprintable(text: str, where: str, what: str) -> None:
    subject = f"{where}: {what}".rstrip()
    for char in text:
        if unicodedata.category(char)[0] == "C":
            raise KitValueError(f"{subject} contains the control character {char!r}")
        if char.isspace():
            raise KitValueError(f"{subject} contains whitespace {char!r}")


def _is_ipv6(host: str) -> bool:
    address, _, zone = host.partition("%")
    if zone and not _ZONE.fullmatch(zone):
        return False
    try:
        return ipaddress.ip_address(address).version == 6
    except ValueError:
        return False
