"""Ports, firewalls, host names."""

from __future__ import annotations

import re

from kit.edits import hosts as hosts_edit
from kit.edits import lines
from kit.errors import KitError
from kit.remediation import Target, remediation
from kit.runner import firewall, network, protect, services
from kit.runner.change import Change, combine

# A listener's owning systemd unit: the last path element of its cgroup that names a unit.
_UNIT = re.compile(r"/([A-Za-z0-9:_.@\\-]+\.(?:service|socket|scope))$")


@remediation(
    reboot=False,
    strategy="disable",
    disruption="high",
    never="a listener outside a systemd service (left to stop by hand)",
)
def free_port(target: Target, port: int) -> Change:
    """Stop and disable the systemd unit that listens on port; refuse a process that is not one.

    High disruption: whatever listens there (kubelet, etcd, an application) stops serving.
    Never stops a unit this connection depends on (sshd, the session's own unit).
    """
    conn = target.conn
    res = conn.read("ss -Hltnp sport = :%s", str(int(port)), sudo=True).check()
    pids = sorted(set(re.findall(r"pid=(\d+)", res.stdout)))
    if not pids:
        return Change.none(f"port {port} already free", dry_run=target.dry_run)
    units = []
    for pid in pids:
        cgroup = conn.read("cat /proc/%s/cgroup", pid, sudo=True).check().stdout.strip()
        found = _UNIT.search(cgroup.splitlines()[-1]) if cgroup else None
        if found is None or found.group(1).endswith(".scope"):
            raise KitError(
                f"port {port} is held by pid {pid}, which no service owns: stop it by hand"
            )
        units.append(found.group(1))
    # Every unit is checked before the first stop, so a refusal leaves all of them running.
    protect.units(conn, sorted(set(units)), f"free port {port} by stopping")
    steps = []
    for unit in sorted(set(units)):
        steps.append(services.stop_service(conn, target.facts, unit, dry_run=target.dry_run))
        steps.append(services.disable_service(conn, target.facts, unit, dry_run=target.dry_run))
    return combine(f"port {port} freed", steps, dry_run=target.dry_run)


@remediation(reboot=False, strategy="disable", disruption="high", never="other firewalls' rules")
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
        raise KitError(f"host name {name!r} is not a valid node name: rename the host by hand")
    address = facts.ipv4_default or facts.ipv6_default
    if address is None:
        raise KitError(f"no default-route address to map {name} to: add it to /etc/hosts by hand")
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
