"""Firewall rules through whichever firewall the host runs: one small class per firewall.

Every backend checks a rule before adding it, so a second run sends no write.
firewalld and ufw keep rules across reboots themselves; the nftables and
iptables backends change the live ruleset only (see the module notes below).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from kit.connection import Connection, quote
from kit.errors import FactUnknown, KitError, KitValueError, ProtectedError
from kit.facts import Facts
from kit.runner import netfilter, protect, services
from kit.runner.change import Change, combine
from kit.runner.validate import name as valid_name


@dataclass(frozen=True, slots=True)
class FirewallRule:
    port: int
    protocol: Literal["tcp", "udp"] = "tcp"
    action: Literal["allow", "deny"] = "allow"
    zone: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.port, bool) or not isinstance(self.port, int):
            raise KitValueError(f"invalid port: {self.port!r}")
        if not 0 < self.port < 65536:
            raise KitValueError(f"invalid port: {self.port!r}")
        if self.protocol not in ("tcp", "udp"):
            raise KitValueError(f"invalid protocol: {self.protocol!r}")
        if self.action not in ("allow", "deny"):
            raise KitValueError(f"invalid firewall action: {self.action!r}")
        if self.zone is not None:
            valid_name("service name", self.zone)

    def __str__(self) -> str:
        return f"{self.action} {self.port}/{self.protocol}"


class Firewall:
    """One firewall: whether a rule holds, and the command that adds it."""

    name: ClassVar[str]
    services: ClassVar[tuple[str, ...]] = ()

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def has(self, rule: FirewallRule) -> bool:
        raise NotImplementedError

    def add(self, rule: FirewallRule) -> None:
        raise NotImplementedError

    def remaining(self, ruleset: netfilter.Ruleset) -> netfilter.Ruleset | None:
        """The live ruleset once this firewall is off, where other rules may outlive it;
        None when turning it off flushes everything or leaves the rules as they are."""
        return None

    def disable(self, facts: Facts, *, dry_run: bool) -> list[Change]:
        """Stop and disable this firewall's services (idempotent per service)."""
        steps: list[Change] = []
        for svc in self.services:
            steps.append(services.stop_service(self.conn, facts, svc, dry_run=dry_run))
            steps.append(services.disable_service(self.conn, facts, svc, dry_run=dry_run))
        return steps


class Firewalld(Firewall):
    name = "firewalld"
    services = ("firewalld",)

    def remaining(self, ruleset: netfilter.Ruleset) -> netfilter.Ruleset | None:
        # firewalld removes its own tables and leaves everyone else's in place.
        return ruleset.without_tables(["firewalld"])

    def _spec(self, rule: FirewallRule) -> str:
        zone = f" --zone={quote(rule.zone)}" if rule.zone else ""
        if rule.action == "allow":
            return f"{zone} --%s-port={rule.port}/{rule.protocol}"
        rich = f'rule port port="{rule.port}" protocol="{rule.protocol}" drop'
        return f"{zone} --%s-rich-rule={quote(rich)}"

    def has(self, rule: FirewallRule) -> bool:
        spec = self._spec(rule)
        # Both the running rules and the saved ones must hold it.
        runtime = self.conn.read("firewall-cmd" + spec.replace("%s", "query", 1), sudo=True)
        saved = self.conn.read(
            "firewall-cmd --permanent" + spec.replace("%s", "query", 1), sudo=True
        )
        return runtime.ok and saved.ok

    def add(self, rule: FirewallRule) -> None:
        spec = self._spec(rule).replace("%s", "add", 1)
        self.conn.run(f"firewall-cmd{spec} && firewall-cmd --permanent{spec}", sudo=True).check()


class Ufw(Firewall):
    name = "ufw"

    def remaining(self, ruleset: netfilter.Ruleset) -> netfilter.Ruleset | None:
        # `ufw disable` drops its ufw-* chains and resets the built-in policies to ACCEPT.
        return ruleset.without_chains("ufw").with_policy("input", "accept")

    def _line(self, rule: FirewallRule) -> str:
        verb = "allow" if rule.action == "allow" else "deny"
        return f"ufw {verb} {rule.port}/{rule.protocol}"

    def has(self, rule: FirewallRule) -> bool:
        added = self.conn.read("ufw show added", sudo=True).check().stdout
        return self._line(rule) in (line.strip() for line in added.splitlines())

    def add(self, rule: FirewallRule) -> None:
        verb = "allow" if rule.action == "allow" else "deny"
        self.conn.run("ufw %s %s", verb, f"{rule.port}/{rule.protocol}", sudo=True).check()

    def disable(self, facts: Facts, *, dry_run: bool) -> list[Change]:
        status = self.conn.read("ufw status", sudo=True).check().stdout
        if "Status: active" not in status:
            return [Change.none("ufw already inactive", dry_run=dry_run)]
        if not dry_run:
            self.conn.run("ufw disable", sudo=True).check()
        return [Change.made("ufw disabled", dry_run=dry_run)]


class Nftables(Firewall):
    """Rules in a table of hostkit's own, so nothing else's rules are touched.

    Live ruleset only: making it survive a reboot depends on how the host loads
    nftables (/etc/nftables.conf includes), which this backend does not edit.
    """

    name = "nftables"
    services = ("nftables",)
    table = "inet hostkit"

    def _expr(self, rule: FirewallRule) -> str:
        verdict = "accept" if rule.action == "allow" else "drop"
        return f"{rule.protocol} dport {rule.port} {verdict}"

    def has(self, rule: FirewallRule) -> bool:
        res = self.conn.read(f"nft list chain {self.table} input", sudo=True)
        return res.ok and self._expr(rule) in (line.strip() for line in res.stdout.splitlines())

    def add(self, rule: FirewallRule) -> None:
        setup = (
            f"nft add table {self.table} && nft add chain {self.table} input "
            "'{ type filter hook input priority 0; policy accept; }'"
        )
        verdict = "accept" if rule.action == "allow" else "drop"
        self.conn.run(
            f"{setup} && nft add rule {self.table} input %s dport %s %s",
            rule.protocol,
            rule.port,
            verdict,
            sudo=True,
        ).check()

    def disable(self, facts: Facts, *, dry_run: bool) -> list[Change]:
        steps = super().disable(facts, dry_run=dry_run)
        if self.conn.read(f"nft list table {self.table}", sudo=True).ok:
            if not dry_run:
                self.conn.run(f"nft delete table {self.table}", sudo=True).check()
            steps.append(Change.made("hostkit nftables table deleted", dry_run=dry_run))
        return steps


class Iptables(Firewall):
    """`-C` before `-A`. Live rules only: saving them is iptables-persistent's or
    iptables-services' job, which vary by distribution."""

    name = "iptables"
    services = ("iptables", "netfilter-persistent")

    _RULE = "INPUT -p %s --dport %s -j %s"

    def _args(self, rule: FirewallRule) -> tuple[str, int, str]:
        return rule.protocol, rule.port, "ACCEPT" if rule.action == "allow" else "DROP"

    def has(self, rule: FirewallRule) -> bool:
        return self.conn.read("iptables -C " + self._RULE, *self._args(rule), sudo=True).ok

    def add(self, rule: FirewallRule) -> None:
        self.conn.run("iptables -A " + self._RULE, *self._args(rule), sudo=True).check()

    def disable(self, facts: Facts, *, dry_run: bool) -> list[Change]:
        present = [s for s in self.services if _unit_known(self.conn, s)]
        steps: list[Change] = []
        for svc in present:
            steps.append(services.stop_service(self.conn, facts, svc, dry_run=dry_run))
            steps.append(services.disable_service(self.conn, facts, svc, dry_run=dry_run))
        return steps


def _unit_known(conn: Connection, service: str) -> bool:
    return conn.read(
        "systemctl cat -- %s >/dev/null 2>&1 || test -e /etc/init.d/%s", service, service
    ).ok


_BACKENDS: dict[str, type[Firewall]] = {
    cls.name: cls for cls in (Firewalld, Ufw, Nftables, Iptables)
}


def backend(conn: Connection, facts: Facts) -> Firewall:
    """The firewall facts name; with none active, nftables (else iptables) when installed."""
    kind = facts.firewall
    if kind == "unknown":
        raise FactUnknown("firewall", facts.hostname)
    if kind == "none":
        kind = next((k for k in ("nft", "iptables") if facts.has(k)), "none")
        kind = {"nft": "nftables"}.get(kind, kind)
    cls = _BACKENDS.get(kind)
    if cls is None:
        raise KitError(f"{conn.name}: no firewall is active and neither nft nor iptables exists")
    return cls(conn)


def configure_firewall(
    conn: Connection, facts: Facts, rules: list[FirewallRule], *, dry_run: bool = False
) -> Change:
    """Add each rule the firewall lacks; rules already present send no command."""
    fw = backend(conn, facts)
    missing = [rule for rule in rules if not fw.has(rule)]
    protect.firewall_rules(conn, [(r.port, r.protocol) for r in missing if r.action == "deny"])
    steps = []
    for rule in rules:
        if rule not in missing:
            steps.append(Change.none(f"{fw.name}: {rule} present", dry_run=dry_run))
            continue
        if not dry_run:
            fw.add(rule)
        steps.append(Change.made(f"{fw.name}: {rule}", dry_run=dry_run))
    return combine("firewall rules", steps, dry_run=dry_run)


def disable_firewall(conn: Connection, facts: Facts, *, dry_run: bool = False) -> Change:
    """Stop and disable the active firewall; with none active, nothing to do."""
    if facts.firewall == "none":
        return Change.none("no firewall active", dry_run=dry_run)
    fw = backend(conn, facts)
    _guard_disable(conn, fw)
    return combine(f"{fw.name} disabled", fw.disable(facts, dry_run=dry_run), dry_run=dry_run)


def _guard_disable(conn: Connection, fw: Firewall) -> None:
    """Refuse when the rules left once fw is off would drop the connection's own port."""
    if conn.spec.scheme != "ssh" or fw.remaining(netfilter.Ruleset({}, {})) is None:
        return
    res = conn.read("nft -j list ruleset", sudo=True)
    if not res.ok:
        raise ProtectedError(
            conn.name,
            f"disable {fw.name}",
            "the live ruleset cannot be read (nft -j list ruleset) to tell whether what "
            "remains would cut this connection",
        )
    after = fw.remaining(netfilter.Ruleset.from_json(res.stdout))
    if after is not None:
        protect.firewall_after(conn, after, f"disable {fw.name}")
