"""Hostname, /etc/hosts entries, ports and interface addresses."""

from __future__ import annotations

from kit.connection import Connection, command
from kit.edits import decode, encode
from kit.edits import hosts as hosts_edit
from kit.errors import CommandTimeout, KitError, KitValueError
from kit.facts import Facts
from kit.facts.parse import parse_interfaces
from kit.runner.change import Change, combine
from kit.runner.files import stat_and_read, write_file
from kit.runner.validate import name as valid_name
from kit.runner.validate import path as valid_path

# A TCP connect from the host itself: bash's /dev/tcp, else nc; exit 2 when neither exists.
_PROBE = (
    "if command -v bash >/dev/null 2>&1; then "
    "timeout %s bash -c 'exec 3<>\"/dev/tcp/$1/$2\"' _ %s %s 2>/dev/null; "
    "elif command -v nc >/dev/null 2>&1; then nc -z -w %s %s %s; else exit 2; fi"
)

_WAIT = (
    "end=$(( $(date +%%s) + %s )); while :; do {probe} && exit 0; [ $? -eq 2 ] && exit 2; "
    '[ "$(date +%%s)" -ge "$end" ] && exit 1; sleep %s; done'
)


def _port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise KitValueError(f"invalid port: {port!r}")
    return port


def _host(host: str) -> str:
    found = hosts_edit.address(host)
    return str(found) if found is not None else valid_name("hostname", host.lower())


def _probe_args(host: str, port: int, wait: int) -> list[str | int]:
    return [wait, host, port, wait, host, port]


def is_port_open(conn: Connection, facts: Facts, port: int, host: str = "127.0.0.1") -> bool:
    """Whether a TCP connection from the host to host:port succeeds now.

    facts is taken for the seed's signature; the answer is live, not from
    facts.listening, which is a snapshot.
    """
    res = conn.read(_PROBE, *_probe_args(_host(host), _port(port), 2))
    if res.rc == 2:
        raise KitError(f"{conn.name}: neither bash nor nc to probe ports with")
    return res.ok


def wait_for_port(
    conn: Connection,
    facts: Facts,
    port: int,
    *,
    host: str = "127.0.0.1",
    timeout: float = 60.0,
    interval: float = 1.0,
) -> None:
    """Return once host:port accepts TCP connections; CommandTimeout after timeout seconds.

    The polling loop runs on the host: one round trip however long it waits.
    """
    probe = command(_PROBE, *_probe_args(_host(host), _port(port), 1))
    script = _WAIT.replace("{probe}", probe.replace("%", "%%"))
    res = conn.read(script, int(timeout), f"{interval:g}", timeout=timeout + 30)
    if res.rc == 2:
        raise KitError(f"{conn.name}: neither bash nor nc to probe ports with")
    if not res.ok:
        raise CommandTimeout(f"wait for {host}:{port}", timeout)


class _HostnameSetter:
    """Persistent and live hostname through plain files and hostname(1)."""

    def __init__(self, conn: Connection, hostname_file: str) -> None:
        self.conn = conn
        self.hostname_file = hostname_file

    def live(self) -> str:
        return self.conn.read("cat /proc/sys/kernel/hostname").check().stdout.strip()

    def apply(self, name: str, *, dry_run: bool) -> Change:
        steps = [write_file(self.conn, self.hostname_file, name + "\n", sudo=True, dry_run=dry_run)]
        if self.live() != name:
            if not dry_run:
                self.conn.run("hostname %s", name, sudo=True).check()
            steps.append(Change.made(f"live hostname {name}", dry_run=dry_run))
        return combine(f"hostname {name}", steps, dry_run=dry_run)


class _Hostnamectl(_HostnameSetter):
    """systemd-hostnamed sets both at once (and tells the rest of the system)."""

    def apply(self, name: str, *, dry_run: bool) -> Change:
        static, _ = stat_and_read(self.conn, self.hostname_file)
        if static is not None and decode(static).strip() == name and self.live() == name:
            return Change.none(f"hostname already {name}", dry_run=dry_run)
        if not dry_run:
            self.conn.run("hostnamectl set-hostname -- %s", name, sudo=True).check()
        return Change.made(f"hostname {name}", dry_run=dry_run)


def set_hostname(
    conn: Connection,
    facts: Facts,
    hostname: str,
    *,
    hostname_file: str = "/etc/hostname",
    dry_run: bool = False,
) -> Change:
    """Make hostname (RFC 1123) both the live and the persistent name."""
    name = valid_name("hostname", hostname)
    use_ctl = facts.init_system.type == "systemd" and facts.has("hostnamectl")
    setter = (_Hostnamectl if use_ctl else _HostnameSetter)(conn, valid_path(hostname_file))
    return setter.apply(name, dry_run=dry_run)


def add_host_entry(
    conn: Connection,
    ip: str,
    fqdn: str,
    *hostnames: str,
    hosts_file: str = "/etc/hosts",
    dry_run: bool = False,
) -> Change:
    """One line in hosts_file maps ip to fqdn and hostnames; an existing line for ip is updated."""
    names = (fqdn, *hostnames)
    # Address and names are checked before anything runs.
    hosts_edit.format_line(ip, names)
    old, _ = stat_and_read(conn, valid_path(hosts_file), sudo=True)
    text = decode(old or b"")
    new = hosts_edit.set_entry(text, ip, *names)
    if old is not None and new == text:
        return Change.none(f"{hosts_file} already maps {ip}", dry_run=dry_run)
    return write_file(conn, hosts_file, encode(new), sudo=True, dry_run=dry_run)


def get_interface_addresses(conn: Connection, name: str) -> dict[str, list[str]]:
    """{"ipv4": [...], "ipv6": [...]} of one interface; KitError when it does not exist."""
    valid_name("interface name", name)
    res = conn.read("ip -o addr show dev %s", name)
    if not res.ok:
        raise KitError(f"{conn.name}: no interface {name!r}: {res.stderr.strip()}")
    iface = next((i for i in parse_interfaces(name, res.stdout) if i.name == name), None)
    if iface is None:
        return {"ipv4": [], "ipv6": []}
    return {"ipv4": list(iface.ipv4), "ipv6": list(iface.ipv6)}
