"""Gather a host's facts: one script sent, one answer read."""

from __future__ import annotations

from importlib import resources

from kit.connection import Connection
from kit.facts.model import Facts
from kit.facts.parse import parse_facts


def script() -> str:
    return resources.files("kit.facts").joinpath("gather.sh").read_text()


_SCRIPT = script()


def gather_facts(conn: Connection, *, sudo: bool = False, timeout: float | None = 60) -> Facts:
    """Run the facts script once on the host and parse its answer.

    Never cached: call again after a write to refresh. With sudo, the firewall
    rules (nft, iptables) are readable by a non-root login.
    """
    # As an argument, not on stdin: a command with stdin costs an SSH connection a new
    # channel, while an argument travels through its long-lived session.
    result = conn.run("sh -c %s hostkit-facts", _SCRIPT, sudo=sudo, timeout=timeout).check()
    return parse_facts(result.stdout)
