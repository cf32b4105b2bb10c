"""Verifying a host's key against known_hosts, the way OpenSSH does.

A key on record that differs from the one offered is always refused, whatever
the policy short of "ignore": that is the one case where the host may be an
impostor. An unknown key is refused (strict), recorded (accept-new), or let
through with a warning (ignore).

Lines are read as OpenSSH reads them: host patterns with `*`, `?` and `!`,
hashed names, `@revoked` keys (never accepted for the hosts the line names) and
`@cert-authority` keys (they vouch for host certificates only, and this client
is never shown one, so they trust no plain key). A line that does not parse is
skipped, with one warning per file, instead of making the whole file unusable.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import functools
import hashlib
import hmac
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paramiko

from kit.errors import HostKeyRejected, KitValueError

POLICIES = ("strict", "accept-new", "ignore")
REVOKED = "@revoked"
CERT_AUTHORITY = "@cert-authority"
log = logging.getLogger(__name__)
_SHA1_SIZE = 20  # hashed names are HMAC-SHA1, as OpenSSH writes them
_warned: set[str] = set()
_warned_lock = threading.Lock()


def fingerprint(key: paramiko.PKey) -> str:
    return _fingerprint(key.asbytes())


def _fingerprint(blob: bytes) -> str:
    digest = hashlib.sha256(blob).digest()
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


@dataclass(frozen=True, slots=True)
class Entry:
    """One usable known_hosts line."""

    marker: str | None  # REVOKED, CERT_AUTHORITY or None for a plain host key
    hosts: str  # the host field as written: patterns, or one hashed name
    keytype: str
    blob: bytes  # the public key in SSH wire form, as PKey.asbytes() gives it
    lineno: int

    def matches(self, name: str) -> bool:
        if self.hosts.startswith("|1|"):
            return _hashed_match(self.hosts, name)
        name = name.lower()
        found = False
        for pattern in self.hosts.split(","):
            negated = pattern.startswith("!")
            if _wildcard(pattern.removeprefix("!").lower()).fullmatch(name):
                if negated:
                    return False  # a negated match excludes the host whatever else matches
                found = True
        return found


class Malformed(Exception):
    """Why a known_hosts line was skipped."""


@functools.lru_cache(maxsize=256)
def _wildcard(pattern: str) -> re.Pattern[str]:
    # OpenSSH patterns know only `*` and `?`; brackets are literal ([host]:port).
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile("".join(parts), re.DOTALL)


def _hashed_match(field: str, name: str) -> bool:
    salt, digest = _hashed_parts(field)
    return hmac.compare_digest(hmac.new(salt, name.encode(), hashlib.sha1).digest(), digest)


def _hashed_parts(field: str) -> tuple[bytes, bytes]:
    parts = field.split("|")
    if len(parts) != 4 or parts[0] or parts[1] != "1":
        raise Malformed("hashed host name is not |1|salt|hash")
    try:
        salt, digest = (base64.b64decode(p, validate=True) for p in parts[2:])
    except ValueError:  # binascii.Error, or text that is not ASCII
        raise Malformed("hashed host name is not base64") from None
    if len(digest) != _SHA1_SIZE:
        raise Malformed("hashed host name has a digest of the wrong length")
    return salt, digest


def parse_line(line: str, lineno: int) -> Entry | None:
    """An Entry, None for a blank or comment line; raise Malformed for anything else."""
    line = line.strip(" \t\r")
    if not line or line.startswith("#"):
        return None
    fields = re.split(r"[ \t]+", line, maxsplit=4)
    marker = None
    if fields[0].startswith("@"):
        marker = fields.pop(0)
        if marker not in (REVOKED, CERT_AUTHORITY):
            raise Malformed(f"unknown marker {marker[:32]!r}")
    if len(fields) < 3:
        raise Malformed("expected hosts, key type and key")
    hosts, keytype, encoded = fields[:3]
    if hosts.startswith("|"):
        _hashed_parts(hosts)
    try:
        blob = base64.b64decode(encoded, validate=True)
    except ValueError:  # binascii.Error, or text that is not ASCII
        raise Malformed("key is not base64") from None
    # The blob names its own type first; a line whose two types differ is damaged.
    size = int.from_bytes(blob[:4], "big")
    if len(blob) < 4 + size or blob[4 : 4 + size] != keytype.encode():
        raise Malformed(f"key does not match its type {keytype[:40]!r}")
    if keytype.endswith("-cert-v01@openssh.com"):
        raise Malformed("a certificate is not a host key")
    try:
        # Some key classes pad or truncate short data instead of refusing it.
        intact = paramiko.PKey.from_type_string(keytype, blob).asbytes() == blob
    except paramiko.UnknownKeyType:
        intact = True  # a type this client cannot use (sk-*, ...): kept, only compared
    except Exception:  # each key class fails on damaged data its own way
        intact = False
    if not intact:
        raise Malformed(f"damaged {keytype} key")
    return Entry(marker, hosts, keytype, blob, lineno)


def parse(data: bytes, source: str) -> list[Entry]:
    """The usable entries of a known_hosts file; malformed lines are skipped with a warning."""
    entries: list[Entry] = []
    skipped: list[tuple[int, str]] = []
    for lineno, raw in enumerate(data.split(b"\n"), 1):
        # Comments may hold any bytes; the fields that matter are ASCII.
        text = raw.decode("utf-8", errors="replace")
        try:
            entry = parse_line(text, lineno)
        except Malformed as exc:
            skipped.append((lineno, str(exc)))
            continue
        if entry is not None:
            entries.append(entry)
    if skipped:
        _warn_once(source, skipped)
    return entries


def _warn_once(source: str, skipped: list[tuple[int, str]]) -> None:
    with _warned_lock:
        if source in _warned:
            return
        _warned.add(source)
    lineno, reason = skipped[0]
    more = f" and {len(skipped) - 1} more" if len(skipped) > 1 else ""
    log.warning(
        "%s: skipped malformed line %d (%s)%s; the rest of the file is used",
        source,
        lineno,
        reason,
        more,
    )


class KnownHosts:
    """One known_hosts file: lookups (plain, hashed or patterned entries) and atomic appends."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    def entries(self) -> list[Entry]:
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise KitValueError(f"cannot read known_hosts {self.path}: {exc.strerror}") from None
        return parse(data, str(self.path))

    def recorded(self, name: str) -> dict[str, list[bytes]]:
        """Plain keys on record for name, by key type."""
        return _recorded(self.entries(), name)

    def preferred_types(self, name: str, offered: list[str]) -> list[str]:
        """Put key types on record first, so the host shows the key we can check."""
        recorded = set(self.recorded(name))
        first = [t for t in offered if _family(t) in recorded]
        return first + [t for t in offered if t not in first]

    def verify(self, host: str, name: str, key: paramiko.PKey, policy: str) -> None:
        """Accept the key, record it, or raise HostKeyRejected naming host and fingerprint."""
        if policy == "ignore":
            message = (
                f"{host}: host key not verified (host_key_policy='ignore'), "
                f"{_family(key.get_name())} {fingerprint(key)}"
            )
            log.warning(message)
            warnings.warn(message, stacklevel=4)
            return
        if self._known(host, name, key, self.entries()):
            return
        if policy == "strict":
            raise self._unknown(host, name, key)
        with self._locked() as target:
            # Another process may have recorded this host since the read above.
            try:
                old = target.read_bytes()
            except FileNotFoundError:
                old = b""
            if self._known(host, name, key, parse(old, str(self.path))):
                return
            self._write(target, old, f"{name} {key.get_name()} {key.get_base64()}\n".encode())
        log.info("%s: recorded new host key %s in %s", host, fingerprint(key), self.path)

    def _known(self, host: str, name: str, key: paramiko.PKey, entries: list[Entry]) -> bool:
        """True when a plain entry records this key; raise when the host must be refused."""
        blob = key.asbytes()
        matching = [e for e in entries if e.matches(name)]
        print_ = _fingerprint(blob)
        revoked = next((e for e in matching if e.marker == REVOKED and e.blob == blob), None)
        if revoked is not None:
            raise HostKeyRejected(
                host,
                f"host key for {name} is marked @revoked in {self.path} "
                f"(line {revoked.lineno}); refusing to connect",
                print_,
            )
        recorded = _recorded(matching, name)
        known = recorded.get(_family(key.get_name()))
        if known is not None:
            if blob in known:
                return True
            raise HostKeyRejected(
                host,
                f"host key for {name} CHANGED from the one in {self.path}; refusing to connect "
                f"(on record {_fingerprint(known[0])})",
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
        return False

    def _unknown(self, host: str, name: str, key: paramiko.PKey) -> HostKeyRejected:
        reason = f"unknown host key for {name}, not in {self.path}"
        if any(e.marker == CERT_AUTHORITY and e.matches(name) for e in self.entries()):
            reason += (
                f" (its {CERT_AUTHORITY} line vouches for host certificates only, "
                "and the host showed a plain key)"
            )
        reason += (
            "; if the fingerprint is the host's, add its key to that file (--known-hosts) "
            "or rerun with --accept-new-host-keys (host_key_policy='accept-new')"
        )
        return HostKeyRejected(host, reason, fingerprint(key))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[Path]:
        """The file a write must replace (a symlink's target), held under an flock.

        The lock file sits beside that target, so every writer of the same file takes the
        same lock, from any process and through any link. It is never removed: removing it
        would let two writers hold locks on different files.
        """
        target = Path(os.path.realpath(self.path))
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(f"{target}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise KitValueError(
                f"cannot lock known_hosts {self.path} to record a key: {exc.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield target
        finally:
            os.close(fd)

    def _write(self, target: Path, old: bytes, line: bytes) -> None:
        try:
            mode = target.stat().st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o600
        if old and not old.endswith(b"\n"):
            old += b"\n"
        fd, tmp = tempfile.mkstemp(prefix=".known_hosts.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(old + line)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _recorded(entries: list[Entry], name: str) -> dict[str, list[bytes]]:
    found: dict[str, list[bytes]] = {}
    for entry in entries:
        if entry.marker is None and entry.matches(name):
            found.setdefault(_family(entry.keytype), []).append(entry.blob)
    return found
