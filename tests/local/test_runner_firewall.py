"""Firewall backends against stand-in firewall tools.

This machine has no firewall tools, and its firewall must not change: the
stand-ins below (sh scripts keeping rules in files, first on PATH) are the
only part that is not real. They record every call so the tests can prove
that a rule already present is never added twice.
"""

from __future__ import annotations

import dataclasses
import types

import pytest

from kit.errors import FactUnknown, KitError, KitValueError
from kit.facts import gather_facts
from kit.runner import firewall
from kit.runner.firewall import FirewallRule
from tests.local.recording import RecordingConnection

FAKES = {
    "iptables": """
op=$1; shift
case $op in
  -C) grep -qxF -- "$*" "$S/iptables.rules" 2>/dev/null ;;
  -A) echo "$*" >> "$S/iptables.rules" ;;
  *) exit 2 ;;
esac""",
    "nft": """
case "$1 $2" in
  "list chain") [ -e "$S/nft.chain" ] || exit 1; cat "$S/nft.rules" 2>/dev/null ;;
  "list table") [ -e "$S/nft.table" ] ;;
  "add table") touch "$S/nft.table" ;;
  "add chain") touch "$S/nft.chain" ;;
  "add rule") shift 5; echo "	$*" >> "$S/nft.rules" ;;
  "delete table") rm -f "$S/nft.table" "$S/nft.chain" "$S/nft.rules" ;;
  *) exit 2 ;;
esac""",
    "ufw": """
case "$1" in
  show) echo "Added user rules (see 'ufw status' for running firewall):";
        cat "$S/ufw.rules" 2>/dev/null || true ;;
  allow|deny) echo "ufw $*" >> "$S/ufw.rules" ;;
  status) echo "Status: active" ;;
  *) exit 2 ;;
esac""",
    "firewall-cmd": """
where=runtime
[ "$1" = --permanent ] && { where=permanent; shift; }
zone=public
case "$1" in --zone=*) zone=${1#--zone=}; shift ;; esac
spec=${1#--*-}
case "$1" in
  --query-*) grep -qxF -- "$where $zone $spec" "$S/firewalld.rules" 2>/dev/null ;;
  --add-*) echo "$where $zone $spec" >> "$S/firewalld.rules" ;;
  *) exit 2 ;;
esac""",
}

WRITES = ("-A ", "add ", "ufw allow", "ufw deny", "--add-")


@pytest.fixture
def env(tmp_path):
    state = tmp_path / "state"
    state.mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, body in FAKES.items():
        tool = bindir / name
        tool.write_text(f'#!/bin/sh\nS={state}\necho "$0 $*" >> "$S/calls"\n{body}\n')
        tool.chmod(0o755)
    conn = RecordingConnection(path_prefix=str(bindir))
    facts = gather_facts(RecordingConnection())
    conn.sent.clear()

    def with_firewall(kind):
        return dataclasses.replace(facts, firewall=kind)

    return types.SimpleNamespace(conn=conn, facts=facts, state=state, with_firewall=with_firewall)


RULES = [
    FirewallRule(22),
    FirewallRule(53, "udp"),
    FirewallRule(23, action="deny"),
]


@pytest.mark.parametrize("kind", ["iptables", "nftables", "ufw", "firewalld"])
def test_rules_are_added_once(env, kind):
    facts = env.with_firewall(kind)
    first = firewall.configure_firewall(env.conn, facts, RULES)
    assert first.changed
    assert first.summary.count(f"{kind}:") == 3
    env.conn.sent.clear()
    again = firewall.configure_firewall(env.conn, facts, RULES)
    assert not again.changed
    assert not any(w in c for c in env.conn.sent for w in WRITES)


def test_iptables_checks_with_c_before_appending(env):
    facts = env.with_firewall("iptables")
    firewall.configure_firewall(env.conn, facts, [FirewallRule(8080)])
    calls = (env.state / "calls").read_text().splitlines()
    assert [c.split()[1] for c in calls] == ["-C", "-A"]
    assert (env.state / "iptables.rules").read_text() == ("INPUT -p tcp --dport 8080 -j ACCEPT\n")


def test_nftables_uses_a_table_of_its_own_and_disable_removes_it(env):
    facts = env.with_firewall("nftables")
    firewall.configure_firewall(env.conn, facts, [FirewallRule(443)])
    assert (env.state / "nft.rules").read_text() == "\ttcp dport 443 accept\n"
    calls = (env.state / "calls").read_text()
    assert "add table inet hostkit" in calls


def test_firewalld_sets_runtime_and_permanent_in_the_zone(env):
    facts = env.with_firewall("firewalld")
    firewall.configure_firewall(env.conn, facts, [FirewallRule(9090, zone="internal")])
    assert (env.state / "firewalld.rules").read_text() == (
        "runtime internal port=9090/tcp\npermanent internal port=9090/tcp\n"
    )


def test_dry_run_sends_no_write(env):
    facts = env.with_firewall("iptables")
    plan = firewall.configure_firewall(env.conn, facts, RULES, dry_run=True)
    assert plan.changed and plan.dry_run
    assert not (env.state / "iptables.rules").exists()


def test_ufw_disable_is_planned_without_acting(env):
    plan = firewall.disable_firewall(env.conn, env.with_firewall("ufw"), dry_run=True)
    assert plan.changed
    calls = (env.state / "calls").read_text().splitlines()
    assert calls and not any(c.endswith("ufw disable") for c in calls)


def test_no_firewall_on_this_machine(env):
    conn, facts = env.conn, env.facts
    if facts.firewall != "none" or facts.has("nft") or facts.has("iptables"):
        pytest.skip("this machine has firewall tools")
    assert not firewall.disable_firewall(conn, facts).changed
    with pytest.raises(KitError, match="no firewall"):
        firewall.configure_firewall(RecordingConnection(), facts, RULES)


def test_unknown_firewall_is_a_clear_error(env):
    with pytest.raises(FactUnknown, match="firewall"):
        firewall.configure_firewall(env.conn, env.with_firewall("unknown"), RULES)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"port": 0},
        {"port": 65536},
        {"port": "22"},
        {"port": 22, "protocol": "icmp"},
        {"port": 22, "action": "reject"},
        {"port": 22, "zone": "a b"},
    ],
)
def test_bad_rules_are_refused(kwargs):
    with pytest.raises(KitValueError):
        FirewallRule(**kwargs)
