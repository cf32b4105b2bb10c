"""Would the host's netfilter ruleset let a new TCP connection to a port in?

Reads `nft -j list ruleset` (JSON), which shows native nftables rules and the rules
iptables-nft, firewalld and ufw make. Every base chain on the input path (the
`input` and `prerouting` hooks of the packet's family and of `inet`) must accept
the packet, since one chain's accept does not stop the next chain's drop.

The evaluation is conservative: a match it cannot decide (an address, an interface,
a named set, a rate limit) may or may not hold, so both outcomes are followed. The
answer is "accepted" only when every path accepts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kit.errors import KitError

ACCEPT, DROP, FALL = "accept", "drop", "fall"  # FALL: the chain ran out, or returned
END, CONT = "end", "continue"  # inside a chain: this chain ends here; go on to the next rule
_HOOKS = ("prerouting", "input")
_MAX_DEPTH = 16


class RulesetUnreadable(KitError):
    """nft's JSON could not be read."""


@dataclass(frozen=True)
class Packet:
    """A new TCP connection's first packet to port, over IPv4 or IPv6."""

    port: int
    family: str = "ip"  # "ip" or "ip6"

    def value(self, expr: Any) -> Any:
        """This packet's value for a left-hand expression; None when it cannot be known."""
        if not isinstance(expr, Mapping):
            return None
        payload = expr.get("payload")
        if isinstance(payload, Mapping):
            proto, fld = payload.get("protocol"), payload.get("field")
            if proto in ("tcp", "th") and fld == "dport":
                return self.port
            if proto in ("ip", "ip6") and fld in ("protocol", "nexthdr"):
                return "tcp" if proto == self.family else None
            return None
        meta = expr.get("meta")
        if isinstance(meta, Mapping):
            key = meta.get("key")
            if key == "l4proto":
                return "tcp"
            if key == "nfproto":
                return "ipv4" if self.family == "ip" else "ipv6"
            return None
        ct = expr.get("ct")
        if isinstance(ct, Mapping) and ct.get("key") == "state" and "dir" not in ct:
            return "new"
        return None


@dataclass
class Ruleset:
    chains: dict[tuple[str, str, str], Mapping[str, Any]]
    rules: dict[tuple[str, str, str], list[list[Any]]]

    @classmethod
    def from_json(cls, text: str) -> Ruleset:
        try:
            items = json.loads(text)["nftables"]
            chains: dict[tuple[str, str, str], Mapping[str, Any]] = {}
            rules: dict[tuple[str, str, str], list[list[Any]]] = {}
            for item in items:
                if "chain" in item:
                    c = item["chain"]
                    chains[(c["family"], c["table"], c["name"])] = c
                elif "rule" in item:
                    r = item["rule"]
                    key = (r["family"], r["table"], r["chain"])
                    rules.setdefault(key, []).append(list(r.get("expr") or []))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RulesetUnreadable(f"cannot read nft's JSON ruleset: {exc}") from None
        return cls(chains, rules)

    def without_tables(self, names: Iterable[str]) -> Ruleset:
        """The ruleset as it would be with those tables gone (in every family)."""
        gone = set(names)
        return Ruleset(
            {k: v for k, v in self.chains.items() if k[1] not in gone},
            {k: v for k, v in self.rules.items() if k[1] not in gone},
        )

    def without_chains(self, prefix: str) -> Ruleset:
        """Chains whose name starts with prefix removed, and the jumps to them."""

        def keep_rule(expr: list[Any]) -> bool:
            for stmt in expr:
                for verb in ("jump", "goto"):
                    target = stmt.get(verb) if isinstance(stmt, Mapping) else None
                    if isinstance(target, Mapping) and str(target.get("target", "")).startswith(
                        prefix
                    ):
                        return False
            return True

        return Ruleset(
            {k: v for k, v in self.chains.items() if not k[2].startswith(prefix)},
            {
                k: [e for e in v if keep_rule(e)]
                for k, v in self.rules.items()
                if not k[2].startswith(prefix)
            },
        )

    def with_policy(self, hook: str, policy: str) -> Ruleset:
        chains = {
            k: ({**v, "policy": policy} if v.get("hook") == hook else v)
            for k, v in self.chains.items()
        }
        return Ruleset(chains, self.rules)

    def base_chains(self, family: str) -> list[tuple[str, str, str]]:
        return [
            key
            for key, chain in self.chains.items()
            if key[0] in (family, "inet") and chain.get("hook") in _HOOKS
        ]

    def verdicts(self, packet: Packet) -> dict[str, set[str]]:
        """Each input-path base chain's possible verdicts for packet."""
        out = {}
        for key in self.base_chains(packet.family):
            ends = _Eval(self, packet).chain(key, 0)
            policy = str(self.chains[key].get("policy", "accept"))
            out[" ".join(key)] = {(policy if v == FALL else v) for v in ends}
        return out

    def blocking(self, packet: Packet) -> list[str]:
        """The base chains that drop or reject packet, or might; empty when all accept."""
        return [name for name, ends in self.verdicts(packet).items() if ends != {ACCEPT}]


class _Eval:
    def __init__(self, ruleset: Ruleset, packet: Packet) -> None:
        self.ruleset = ruleset
        self.packet = packet

    def chain(self, key: tuple[str, str, str], depth: int) -> set[str]:
        """Possible ends of one chain: ACCEPT, DROP, or FALL (returned or ran out)."""
        if depth > _MAX_DEPTH or key not in self.ruleset.chains:
            return {ACCEPT, DROP, FALL}
        ends: set[str] = set()
        for expr in self.ruleset.rules.get(key, []):
            matched, outcome = self.rule(key, expr, depth)
            if outcome is None or matched is False:
                continue
            ends |= {FALL if o == END else o for o in outcome if o != CONT}
            if matched is True and CONT not in outcome:
                return ends
        return ends | {FALL}

    def rule(self, key: tuple[str, str, str], expr: list[Any], depth: int) -> tuple[Any, Any]:
        """(does the rule match: True/False/None, its possible outcomes or None)."""
        matched: bool | None = True
        for stmt in expr:
            if not isinstance(stmt, Mapping) or len(stmt) != 1:
                matched = None
                continue
            ((verb, arg),) = stmt.items()
            if verb == "match":
                result = self.match(arg)
                if result is False:
                    return False, None
                if result is None:
                    matched = None
            elif verb in ("accept", "drop", "reject", "return", "jump", "goto", "vmap", "queue"):
                return matched, self.verdict(key, verb, arg, depth)
            elif verb in ("limit", "xt", "quota", "meter", "set", "map"):
                matched = None  # may or may not pass: both paths are followed
            # counter, log, mangle, notrack, comment...: no effect on the verdict
        return matched, None

    def verdict(self, key: tuple[str, str, str], verb: str, arg: Any, depth: int) -> set[str]:
        if verb == "accept":
            return {ACCEPT}
        if verb in ("drop", "reject", "queue"):
            return {DROP}
        if verb == "return":
            return {END}
        if verb in ("jump", "goto"):
            target = (key[0], key[1], str(arg.get("target", ""))) if isinstance(arg, dict) else key
            # A called chain that runs out continues here after a jump, ends here after a goto.
            after = CONT if verb == "jump" else END
            return {after if e == FALL else e for e in self.chain(target, depth + 1)}
        if verb == "vmap":
            return self.vmap(key, arg, depth)
        return {ACCEPT, DROP, END}

    def vmap(self, key: tuple[str, str, str], arg: Any, depth: int) -> set[str]:
        try:
            value = self.packet.value(arg["key"])
            entries = arg["data"]["set"]
        except (KeyError, TypeError):
            return {ACCEPT, DROP, FALL}
        outcomes: set[str] = set()
        hit = False
        for entry in entries:
            element, target = entry[0], entry[1]
            here = _contains(element, value) if value is not None else None
            if here is False:
                continue
            ((verb, varg),) = target.items()
            outcomes |= self.verdict(key, verb, varg, depth)
            if here is True:
                hit = True
                break
        return outcomes if hit else outcomes | {CONT}

    def match(self, arg: Any) -> bool | None:
        try:
            left, right, op = arg["left"], arg["right"], arg.get("op", "==")
        except (KeyError, TypeError):
            return None
        value = self.packet.value(left)
        if value is None:
            return None
        found = _contains(right, value)
        if found is None:
            return None
        if op in ("==", "in"):
            return found
        if op == "!=":
            return not found
        return None


def _contains(right: Any, value: Any) -> bool | None:
    """Whether value is right, or in it (a set, a range, a flag list); None if unknowable."""
    if isinstance(right, str) and right.startswith("@"):
        return None  # a named set's contents are not in the rule
    if isinstance(right, list):
        results = [_contains(r, value) for r in right]
        return True if True in results else (None if None in results else False)
    if isinstance(right, Mapping):
        if "set" in right:
            return _contains(right["set"], value)
        if "range" in right and isinstance(value, int):
            low, high = right["range"]
            return isinstance(low, int) and isinstance(high, int) and low <= value <= high
        return None
    if isinstance(value, int) and isinstance(right, str) and right.isdigit():
        return int(right) == value
    if isinstance(value, int) and isinstance(right, str):
        return None  # a service name such as "ssh": resolved by nft, not here
    return right == value
