"""Ports, firewalls, host names."""

from __future__ import annotations

import re

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
    """Stop and disable firewalld.

    High disruption: every port its zones kept closed opens to the network. Refused
    when the rules left behind would drop this connection's port.
    """
    return firewall.disable_firewall(target.conn, target.facts, dry_run=target.dry_run)


@remediation(
    reboot=False, strategy="configure", disruption="low", never="other lines of /etc/hosts"
)
def resolve_hostname(target: Target) -> Change:
    """Make the host's own name resolve, as Debian's installer does: 127.0.1.1 in /etc/hosts."""
    name = target.facts.hostname
    return network.add_host_entry(target.conn, "127.0.1.1", name, dry_run=target.dry_run)
