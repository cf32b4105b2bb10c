"""Whether a ruleset lets a new TCP connection to port 22 or 2222 in, from nft's JSON.

The rule sets are written in `nft -j list ruleset`'s format; the firewalld one in
tests/unit/data/nft/ was recorded on the disposable Debian 12 VM.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.runner import netfilter
from kit.runner.netfilter import Packet, Ruleset

DATA = Path(__file__).parent / "data" / "nft"
SSH, OTHER = Packet(22), Packet(2222)


def dport(port):
    return {
        "match": {
            "op": "==",
            "left": {"payload": {"protocol": "tcp", "field": "dport"}},
            "right": port,
        }
    }


def ct_state(*states):
    return {"match": {"op": "in", "left": {"ct": {"key": "state"}}, "right": list(states)}}


def saddr(prefix):
    net, length = prefix.split("/")
    right = {"prefix": {"addr": net, "len": int(length)}}
    return {
        "match": {
            "op": "==",
            "left": {"payload": {"protocol": "ip", "field": "saddr"}},
            "right": right,
        }
    }


ACCEPT, DROP, REJECT = {"accept": None}, {"drop": None}, {"reject": None}


def ruleset(*chains, family="inet", table="filter"):
    """chains: (name, hook or None, policy, [rule expr lists])."""
    items = [{"metainfo": {"json_schema_version": 1}}, {"table": {"family": family, "name": table}}]
    for name, hook, policy, rules in chains:
        chain = {"family": family, "table": table, "name": name}
        if hook:
            chain |= {"type": "filter", "hook": hook, "prio": 0, "policy": policy}
        items.append({"chain": chain})
        items += [
            {"rule": {"family": family, "table": table, "chain": name, "expr": expr}}
            for expr in rules
        ]
    return Ruleset.from_json(json.dumps({"nftables": items}))


def test_no_rules_let_everything_in():
    empty = Ruleset.from_json('{"nftables": [{"metainfo": {}}]}')
    assert empty.blocking(SSH) == [] and empty.blocking(OTHER) == []


def test_drop_policy_with_port_22_allowed_cuts_only_2222():
    rs = ruleset(
        (
            "input",
            "input",
            "drop",
            [[ct_state("established", "related"), ACCEPT], [dport(22), ACCEPT]],
        )
    )
    assert rs.blocking(SSH) == []
    assert rs.blocking(OTHER) == ["inet filter input"]


def test_established_only_still_cuts_a_new_connection():
    rs = ruleset(("input", "input", "drop", [[ct_state("established", "related"), ACCEPT]]))
    assert rs.blocking(SSH)


@pytest.mark.parametrize("verdict", [DROP, REJECT])
def test_a_drop_or_reject_of_one_port_cuts_that_port_only(verdict):
    rs = ruleset(("input", "input", "accept", [[dport(2222), verdict]]))
    assert rs.blocking(SSH) == [] and rs.blocking(OTHER)


def test_sets_and_ranges():
    rs = ruleset(
        ("input", "input", "drop", [[dport({"set": [80, 22, {"range": [2000, 2100]}]}), ACCEPT]])
    )
    assert rs.blocking(SSH) == [] and rs.blocking(OTHER)
    rs = ruleset(("input", "input", "drop", [[dport({"set": [{"range": [2200, 2300]}]}), ACCEPT]]))
    assert rs.blocking(OTHER) == [] and rs.blocking(SSH)


def test_jump_return_and_goto():
    allow = ("allow", None, None, [[dport(22), ACCEPT], [{"return": None}]])
    rs = ruleset(("input", "input", "drop", [[{"jump": {"target": "allow"}}]]), allow)
    assert rs.blocking(SSH) == [] and rs.blocking(OTHER)
    # After a goto the called chain's end is the caller's end: the policy, not the next rule.
    deny = ("deny", None, None, [[dport(2222), DROP]])
    rs = ruleset(("input", "input", "accept", [[{"goto": {"target": "deny"}}], [DROP]]), deny)
    assert rs.blocking(SSH) == [] and rs.blocking(OTHER)


def test_a_match_on_addresses_cannot_be_relied_on_either_way():
    allowed_from_admin_net = ruleset(
        ("input", "input", "drop", [[saddr("10.0.0.0/8"), dport(22), ACCEPT]])
    )
    assert allowed_from_admin_net.blocking(SSH)  # the kit may connect from elsewhere
    dropped_for_some = ruleset(("input", "input", "accept", [[saddr("192.0.2.0/24"), DROP]]))
    assert dropped_for_some.blocking(SSH)
    unrelated_port = ruleset(
        ("input", "input", "accept", [[saddr("192.0.2.0/24"), dport(2222), DROP]])
    )
    assert unrelated_port.blocking(SSH) == []


def test_every_base_chain_must_accept():
    rs = ruleset(("a", "input", "accept", []), ("b", "input", "accept", [[dport(22), DROP]]))
    assert rs.blocking(SSH) == ["inet filter b"]


def test_an_ipv6_chain_does_not_judge_ipv4():
    rs = ruleset(("input", "input", "drop", []), family="ip6")
    assert rs.blocking(SSH) == [] and rs.blocking(Packet(22, "ip6"))


def test_vmap_on_connection_state():
    vmap = {
        "vmap": {
            "key": {"ct": {"key": "state"}},
            "data": {"set": [["established", ACCEPT], ["invalid", DROP]]},
        }
    }
    rs = ruleset(("input", "input", "drop", [[vmap], [dport(22), ACCEPT]]))
    assert rs.blocking(SSH) == [] and rs.blocking(OTHER)


def test_unreadable_json_is_a_kit_error():
    with pytest.raises(netfilter.RulesetUnreadable):
        Ruleset.from_json("{not json")
    with pytest.raises(netfilter.RulesetUnreadable):
        Ruleset.from_json('{"nftables": [{"chain": {"family": "inet"}}]}')


def test_recorded_firewalld_ruleset():
    """firewalld's public zone allows ssh; everything else it rejects."""
    recorded = Ruleset.from_json((DATA / "firewalld-debian12.json").read_text())
    assert recorded.blocking(SSH) == []
    assert recorded.blocking(OTHER)
    assert recorded.without_tables(["firewalld"]).blocking(OTHER) == []


def test_firewalld_gone_leaves_another_tables_drop_policy():
    """What disable_firewall weighs: firewalld's accept of ssh leaves with it."""
    recorded = json.loads((DATA / "firewalld-debian12.json").read_text())
    other = ruleset(("input", "input", "drop", [[ct_state("established"), ACCEPT]]), table="site")
    combined = Ruleset(
        {**Ruleset.from_json(json.dumps(recorded)).chains, **other.chains},
        {**Ruleset.from_json(json.dumps(recorded)).rules, **other.rules},
    )
    assert combined.without_tables(["firewalld"]).blocking(SSH) == ["inet site input"]
