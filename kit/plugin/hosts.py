"""One connection and one facts gather per host for the whole run, shared by every check."""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import urllib.parse
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kit.connection import Connection, connect
from kit.connection.spec import FORMS, HostSpec, parse
from kit.errors import ConnectError, KitError, KitValueError
from kit.facts.model import Probes

if TYPE_CHECKING:
    from kit.facts import Facts


@dataclass
class HostContext:
    """A host's connection and facts, made on first use.

    A failed connect, and a failed facts gather, are remembered: each check of the host
    reports the same error instead of waiting out its own timeout again.
    """

    spec: HostSpec
    label: str
    key: str
    options: Mapping[str, Any]
    probes: Probes = field(default_factory=Probes)
    gather_timeout: float = 120
    # How to connect when hostkit does not connect itself (a host of testinfra's other
    # backends, kit.plugin.theirs); None: kit.connection.connect.
    connector: Callable[[], Connection] | None = None
    _conn: Connection | None = None
    _facts: Facts | None = None
    _error: ConnectError | None = None
    _facts_error: KitError | None = None
    # Sections a write made stale since they were gathered (kit.facts.sections).
    _stale: frozenset[str] = frozenset()
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def conn(self) -> Connection:
        with self._lock:
            if self._error is not None:
                raise self._error
            if self._conn is None:
                try:
                    make = self.connector or (lambda: connect(self.spec, **self.options))
                    self._conn = make()
                except ConnectError as exc:
                    self._error = exc
                    raise
            return self._conn

    @property
    def facts(self) -> Facts:
        """Every fact of the host, fresh: what a write made stale is gathered again first."""
        facts = self._gathered()
        if self._stale:
            facts = self._update(self._stale)
        return facts

    def view(self) -> Facts:
        """The facts as a check reads them (kit.facts.view): gathered on first use, then
        each field read as it is now, gathered again first when a write made it stale;
        the view records the fields read, for the re-check after a fix."""
        from kit.facts.view import FactsView

        self._gathered()
        return FactsView(self)

    def fact(self, name: str) -> object:
        """One field, fresh: its sections gathered again first when a write made one of
        them stale (all of them, one gather: its parser reads them together)."""
        from kit.facts.sections import sections_of

        facts = self._gathered()
        if self._stale:  # every read of a check's facts comes here: the usual case first
            wanted = sections_of((name,))
            if wanted & self._stale:
                facts = self._update(wanted)
        return getattr(facts, name)

    def wrote(self) -> None:
        """After a write: any fact may have changed. Nothing is sent now; each section is
        gathered again when a field read next needs it (and a failed gather is retried)."""
        from kit.facts.sections import ALL

        self._facts_error = None
        if self._facts is not None:
            self._stale = ALL

    def update(self, wanted: Collection[str]) -> None:
        """Gather these sections again now, in one round trip (the re-check's, for the
        fields its check read)."""
        self._gathered()
        if wanted:
            self._update(frozenset(wanted))

    def refresh_facts(self) -> Facts:
        """Gather again, after a write; this also retries a gather that failed."""
        self._facts_error = None
        self._facts = None
        self._stale = frozenset()
        self._facts = self._gather()
        return self._facts

    def _gathered(self) -> Facts:
        """The facts as last gathered (the whole answer on first use); raises the error of
        a gather that failed, as each check of the host reports it."""
        if self._facts_error is not None:
            raise self._facts_error
        if self._facts is None:
            self._facts = self._gather()
            self._stale = frozenset()
        return self._facts

    def _gather(self) -> Facts:
        from kit.facts import gather_facts

        try:
            return gather_facts(self.conn, probes=self.probes, timeout=self.gather_timeout)
        except ConnectError:
            raise
        except KitError as exc:
            self._facts_error = exc
            raise

    def _update(self, wanted: frozenset[str]) -> Facts:
        """The facts with the wanted sections gathered again; they are stale no more."""
        from kit.facts import gather_facts

        assert self._facts is not None
        try:
            self._facts = gather_facts(
                self.conn,
                probes=self.probes,
                timeout=self.gather_timeout,
                sections=wanted,
                onto=self._facts,
            )
        except ConnectError:
            raise
        except KitError as exc:
            self._facts_error = exc
            raise
        self._stale -= wanted
        return self._facts

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def connect_in_background(contexts: list[HostContext], threads: int = 32) -> None:
    """Start connecting each host on daemon threads, and return at once.

    A run knows its hosts well before its first check: connecting while pytest plans the
    profiles and collects the checks takes the handshakes' round trips off the run's wall
    time, and the first use of `conn` waits on the context's lock for the connect under
    way. A failed connect is remembered by the context, as ever. Daemon threads let a run
    that ends early (a usage error, nothing selected) exit without waiting on a slow host.
    """
    todo: queue.SimpleQueue[HostContext] = queue.SimpleQueue()
    for ctx in contexts:
        todo.put(ctx)

    def work() -> None:
        while True:
            try:
                ctx = todo.get_nowait()
            except queue.Empty:
                return
            with contextlib.suppress(Exception):
                ctx.conn  # noqa: B018 - connecting is the point

    for _ in range(min(threads, len(contexts))):
        threading.Thread(target=work, name="hostkit-connect", daemon=True).start()


class HostRegistry:
    """The hosts of one pytest run.

    Each host has a label, which appears in test ids and reports, and a short key
    that stands for it inside testinfra's `hostkit://KEY` specs.
    """

    def __init__(self, defaults: Mapping[str, Any]) -> None:
        self.defaults = dict(defaults)
        self._hosts: dict[str, HostContext] = {}
        self._lock = threading.Lock()

    def add(self, spec: HostSpec, label: str | None = None, **options: Any) -> HostContext:
        label = label or str(spec)
        with self._lock:
            for ctx in self._hosts.values():
                if ctx.label == label:
                    return ctx
            merged = {**self.defaults, **{k: v for k, v in options.items() if v is not None}}
            if spec.scheme == "local":
                merged = {k: v for k, v in merged.items() if k in _LOCAL_OPTIONS}
            elif spec.scheme == "nsenter":
                merged = {k: v for k, v in merged.items() if k in _NSENTER_OPTIONS}
            # Inventory names may all point at this machine; each keeps its own entry.
            local = spec.scheme == "local" and "local" not in self._hosts
            key = "local" if local else f"h{len(self._hosts)}"
            ctx = HostContext(spec, label, key, merged)
            self._hosts[key] = ctx
            return ctx

    def get(self, key: str) -> HostContext:
        return self._hosts[key]

    def labelled(self, label: str) -> HostContext | None:
        with self._lock:
            return next((c for c in self._hosts.values() if c.label == label), None)

    def add_theirs(
        self, spec: HostSpec, label: str, connector: Callable[[], Connection]
    ) -> HostContext:
        """A host of testinfra's other backends: hostkit reads it through connector."""
        with self._lock:
            for ctx in self._hosts.values():
                if ctx.label == label:
                    return ctx
            key = f"h{len(self._hosts)}"
            ctx = HostContext(spec, label, key, {}, connector=connector)
            self._hosts[key] = ctx
            return ctx

    def has(self, key: str) -> bool:
        return key in self._hosts

    def resolve(self, hostspec: str | None, **kw: Any) -> list[HostContext]:
        """The hosts a testinfra host spec names, registered here; refuse what hostkit cannot do.

        hostspec is as testinfra takes it (`[scheme://]host[?option=value&...]`, or None
        for the local machine); kw holds the run's testinfra options (connection,
        ssh_config, ssh_identity_file, ansible_inventory, ...), which the spec's own
        scheme and options override. sudo and sudo_user stay with the caller: they
        choose the user per command, not the connection.
        """
        spec = Spec.of(hostspec, kw)
        if spec.theirs:
            # The pytest run registers them itself (kit.plugin.theirs); nothing else of
            # hostkit's reaches them.
            raise KitValueError(
                f"host {hostspec!r}: testinfra's {spec.scheme} backend runs it, and hostkit "
                f"connects only to {FORMS}"
            )
        if spec.scheme == "hostkit":
            if spec.host not in self._hosts:
                raise KitValueError(f"host {hostspec!r}: no such hostkit host")
            return [self._hosts[spec.host]]
        if spec.scheme == "local":
            return [self.add(parse("local://"))]
        if spec.scheme == "nsenter":
            return [self.add(parse(f"nsenter://{spec.host}"), connect_timeout=spec.timeout)]
        if spec.scheme == "ansible":
            return self._from_inventory(spec)
        options = {
            "ssh_config": spec.options.get("ssh_config"),
            "identity_file": spec.options.get("ssh_identity_file"),
            "connect_timeout": spec.timeout,
        }
        return [self.add(parse(f"ssh://{spec.host}"), spec.label, **options)]

    def _from_inventory(self, spec: Spec) -> list[HostContext]:
        from kit import inventory

        path = spec.options.get("ansible_inventory")
        if not path:
            raise KitValueError(
                f"host {spec.label!r}: the ansible connection needs an inventory; "
                "give --ansible-inventory=FILE (or --inventory=FILE)"
            )
        # Hosts of other connections are testinfra's ansible backend's (kit.plugin.theirs).
        loaded = inventory.load(path, others=True)
        chosen = inventory.select(loaded, [spec.host or "all"])
        if not chosen and not inventory.select_others(loaded, [spec.host or "all"]):
            raise KitValueError(f"inventory {path} selects no host for {spec.host!r}")
        return [
            self.add(e.spec, e.name, identity_file=e.identity_file, connect_timeout=spec.timeout)
            for e in chosen
        ]

    def __iter__(self) -> Iterator[HostContext]:
        return iter(list(self._hosts.values()))

    def close(self) -> None:
        for ctx in self:
            ctx.close()


_LOCAL_OPTIONS = {"sudo_password", "sudo_user", "command_timeout"}
_NSENTER_OPTIONS = {*_LOCAL_OPTIONS, "connect_timeout"}

# The registry of the active pytest run (kit.plugin.backend.install sets it).
_active: HostRegistry | None = None


def activate(registry: HostRegistry | None) -> None:
    global _active
    _active = registry


def context_of(found: Any) -> HostContext | None:
    """The run's context of a testinfra host's backend: hostkit's own backend's, or the one
    a host of testinfra's other backends was registered with under its test label."""
    ctx = getattr(found, "context", None)
    if ctx is not None or _active is None:
        return ctx
    return _active.labelled(found.get_pytest_id())


# testinfra's connection types that hostkit carries out itself, and how.
SSH_SCHEMES = ("ssh", "paramiko", "safe-ssh")
KIT_SCHEMES = (*SSH_SCHEMES, "local", "nsenter", "ansible", "hostkit")
# testinfra URL options: those hostkit honours, and what to use for the others.
_FLAGS = ("sudo",)
_VALUES = ("sudo_user", "timeout", "ssh_config", "ssh_identity_file", "ansible_inventory")
_INSTEAD = {
    "controlpersist": "hostkit keeps one connection per host open for the whole run already",
    "ssh_extra_args": "put SSH options in an ssh_config file (--ssh-config)",
}


def theirs_schemes() -> set[str]:
    """testinfra's connection types that hostkit leaves to testinfra's own backends."""
    import testinfra.backend

    return set(testinfra.backend.BACKENDS) - set(KIT_SCHEMES)


def _forces_ansible(scheme: str, query: str, given: Mapping[str, Any]) -> bool:
    """testinfra's force_ansible: every command as an Ansible task, which only testinfra's
    ansible backend does (hostkit otherwise reads the inventory and connects itself)."""
    if scheme != "ansible":
        return False
    asked = urllib.parse.parse_qs(query).get("force_ansible", ["false"])[0].lower() == "true"
    return asked or bool(given.get("force_ansible"))


@dataclass(frozen=True)
class Spec:
    """A testinfra host spec read the way testinfra reads it (testinfra.backend.parse_hostspec)."""

    scheme: str
    host: str
    label: str
    options: Mapping[str, Any]
    # A host of testinfra's other backends: testinfra runs it, hostkit only reads through it.
    theirs: bool = False

    @property
    def sudo(self) -> bool:
        return bool(self.options.get("sudo"))

    @property
    def timeout(self) -> float | None:
        value = self.options.get("timeout")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            raise KitValueError(f"host {self.label!r}: invalid timeout {value!r}") from None

    @classmethod
    def of(cls, hostspec: str | None, kw: Mapping[str, Any]) -> Spec:
        given = {k: v for k, v in kw.items() if v not in (None, False)}
        if hostspec is None or hostspec in ("local", "local://"):
            # hostkit has always read a bare "local" as this machine.
            return cls("local", "", "local://", given)
        options: dict[str, Any] = {}
        if "://" in hostspec:
            url = urllib.parse.urlsplit(hostspec)
            scheme, host = url.scheme, url.netloc
            if scheme in theirs_schemes() or _forces_ansible(scheme, url.query, given):
                # Its URL options are its backend's (testinfra reads them), not hostkit's.
                return cls(scheme, host, hostspec, given, theirs=True)
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            for key, values in query.items():
                if key in _FLAGS:
                    if values[0].lower() == "true":
                        options[key] = True
                elif key in _VALUES:
                    value = values[0]
                    if key in ("ssh_config", "ssh_identity_file", "ansible_inventory"):
                        value = os.path.expanduser(value)
                    options[key] = value
                else:
                    instead = _INSTEAD.get(key, "hostkit does not take it")
                    raise KitValueError(f"host {hostspec!r}: option {key!r} is refused: {instead}")
            label = urllib.parse.urlunsplit((scheme, host, url.path, "", ""))
        else:
            scheme, host, label = given.get("connection") or "ssh", hostspec, hostspec
            if scheme == "hostkit":
                scheme = "ssh"  # the connection type the plugin sets: a bare name is SSH
            if scheme in theirs_schemes() or _forces_ansible(scheme, "", given):
                return cls(scheme, host, f"{scheme}://{host}", given, theirs=True)
        for key, value in given.items():
            options.setdefault(key, value)
        if scheme not in KIT_SCHEMES:
            raise KitValueError(
                f"host {hostspec!r}: unknown connection type {scheme!r}; use {FORMS}"
            )
        for key in _INSTEAD:
            if options.get(key):
                raise KitValueError(f"host {hostspec!r}: {key} is refused: {_INSTEAD[key]}")
        if scheme in SSH_SCHEMES:
            scheme = "ssh"
        return cls(scheme, host, label, options)
