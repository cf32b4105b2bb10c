"""Ports, firewalls, host names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kit.catalog.remediation import Target, remediation
from kit.edits import hosts as hosts_edit
from kit.edits import lines
from kit.errors import FixRefused
from kit.runner import firewall, network, protect, services
from kit.runner.change import Change, combine

if TYPE_CHECKING:
    from kit.connection import Connection

# A listener's owning systemd unit: the last path element of its cgroup that names a unit.
_UNIT = re.compile(r"/([A-Za-z0-9:_.@\\-]+\.(?:service|socket|scope))$")


@dataclass(frozen=True)
class Holder:
    """A process listening on a TCP port, with the systemd unit that runs it, if any."""

    pid: str
    name: str  # comm, which the kernel cuts to 15 characters
    unit: str | None

    def is_owner(self, owner: str) -> bool:
        """Whether this is owner: its process (a static pod's included) or its unit."""
        if not owner:
            return False
        return self.name == owner[:15] or self.unit in (owner, f"{owner}.service")

    def __str__(self) -> str:
        return f"{self.name} (pid {self.pid}" + (f", {self.unit})" if self.unit else ")")


def port_holders(conn: Connection, port: int) -> list[Holder]:
    """The processes listening on TCP port, read with ss and /proc (as root)."""
    res = conn.read("ss -Hltnp sport = :%s", str(int(port)), sudo=True).check()
    found: dict[str, str] = {}
    for name, pid in re.findall(r'\("((?:[^"\\]|\\.)*)",pid=(\d+)', res.stdout):
        found.setdefault(pid, name)
    holders = []
    for pid, name in sorted(found.items()):
        cgroup = conn.read("cat /proc/%s/cgroup", pid, sudo=True).stdout.strip()
        unit = _UNIT.search(cgroup.splitlines()[-1]) if cgroup else None
        holders.append(Holder(pid, name, unit.group(1) if unit else None))
    return holders


@remediation(
    reboot=False,
    persists=True,
    strategy="disable",
    disruption="high",
    never="the port's expected owner (the profile's ports_free value); a listener outside "
    "a systemd service (left to stop by hand)",
)
def free_port(target: Target, port: int, owner: str = "") -> Change:
    """Stop and disable the systemd unit that listens on port; refuse a process that is not
    one, and the process or unit the profile names as the port's owner.

    High disruption: whatever listens there (an application, a leftover service) stops
    serving. The expected owner (kubelet on 10250, etcd on 2379...) holding the port means
    the node is already set up: stopping it would take the node down, so that is left to
    `kubeadm reset` or the administrator. Never stops a unit this connection depends on
    (sshd, the session's own unit).
    """
    conn = target.conn
    holders = port_holders(conn, port)
    if not holders:
        return Change.none(f"port {port} already free", dry_run=target.dry_run)
    # Every holder is checked before the first stop, so a refusal leaves all of them running.
    for holder in holders:
        if holder.is_owner(owner):
            raise FixRefused(
                f"port {port} is held by {holder}, its expected owner {owner}: not stopping it "
                "(the node is already set up; reset it by hand)"
            )
        if holder.unit is None or holder.unit.endswith(".scope"):
            raise FixRefused(
                f"port {port} is held by pid {holder.pid}, which no service owns: stop it by hand"
            )
    units = sorted({h.unit for h in holders if h.unit})
    protect.units(conn, units, f"free port {port} by stopping")
    steps = []
    for unit in units:
        steps.append(services.stop_service(conn, target.facts, unit, dry_run=target.dry_run))
        steps.append(services.disable_service(conn, target.facts, unit, dry_run=target.dry_run))
    return combine(f"port {port} freed", steps, dry_run=target.dry_run)


@remediation(
    reboot=False,
    persists=True,
    strategy="disable",
    disruption="high",
    never="other firewalls' rules",
)
def disable_firewalld(target: Target) -> Change:
    """Stop and disable firewalld; a stopped one that is enabled is only disabled.

    High disruption: every port its zones kept closed opens to the network. Refused
    when the rules left behind would drop this connection's port.
    """
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    if facts.firewall == "firewalld":
        return firewall.disable_firewall(conn, facts, dry_run=dry_run)
    # Stopped, its rules are not loaded: disabling it closes nothing and opens nothing now.
    return services.disable_service(conn, facts, "firewalld", dry_run=dry_run)


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="low",
    never="other lines of /etc/hosts; a name kubeadm would refuse (left to rename by hand)",
)
def resolve_hostname(target: Target) -> Change:
    """Make the node name resolve to the node's own address: its default-route address
    (IPv4, else IPv6) in /etc/hosts.

    Not 127.0.1.1, as Debian's installer writes: a node name on a loopback address
    resolves, but kubelet and the API server would then reach the node at loopback.
    A name kubeadm finds invalid, or a host without a default-route address, is left
    to the administrator.
    """
    facts = target.facts
    name = facts.hostname
    if qualified_name_errors(name.strip().lower()):
        raise FixRefused(f"host name {name!r} is not a valid node name: rename the host by hand")
    address = facts.ipv4_default or facts.ipv6_default
    if address is None:
        raise FixRefused(f"no default-route address to map {name} to: add it to /etc/hosts by hand")
    # Names already on the address's line stay: the node name joins them.
    text = target.conn.read("cat /etc/hosts").stdout
    names: tuple[str, ...] = ()
    for line in lines(text):
        entry = hosts_edit.parse_line(line)
        if entry is not None and entry[0] == hosts_edit.address(address):
            names = entry[1]
            break
    if name in names:
        return Change.none(f"/etc/hosts already maps {name} to {address}", dry_run=target.dry_run)
    first, *rest = (*names, name)
    return network.add_host_entry(target.conn, address, first, *rest, dry_run=target.dry_run)


# k8s.io/apimachinery validation.IsQualifiedName, as kubeadm's HostnameCheck applies it.
_QUALIFIED = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")


def qualified_name_errors(value: str) -> list[str]:
    """What validation.IsQualifiedName finds wrong with value (empty: nothing)."""
    parts = value.split("/")
    if len(parts) > 2:
        return ["a qualified name has at most one '/'"]
    errors = []
    if len(parts) == 2:
        prefix = parts[0]
        if not prefix:
            errors.append("prefix part must be non-empty")
        elif len(prefix) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(prefix):
            errors.append("prefix part must be a lowercase RFC 1123 subdomain")
    name = parts[-1]
    if not name:
        errors.append("name part must be non-empty")
    elif len(name) > 63:
        errors.append("name part must be no more than 63 characters")
    if name and not _QUALIFIED.fullmatch(name):
        errors.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return errors


_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
