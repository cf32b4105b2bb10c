"""Gather a host's facts: one script sent, one answer read."""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from importlib import resources

from kit.connection import Connection
from kit.errors import CommandTimeout
from kit.facts import sections as sectioned
from kit.facts.model import Facts, Probes
from kit.facts.parse import parse_facts, parse_update


def script() -> str:
    return resources.files("kit.facts").joinpath("gather.sh").read_text()


# Read on the first gather rather than at import: a run that gathers nothing (--co, a
# plain testinfra file) reads no file for it.
_script = cache(script)


def gather_facts(
    conn: Connection,
    *,
    sudo: bool = False,
    timeout: float | None = 120,
    probes: Probes | None = None,
    sections: Collection[str] | None = None,
    onto: Facts | None = None,
) -> Facts:
    """Run the facts script once on the host and parse its answer.

    Never cached: call again after a write to refresh. With sudo, the firewall
    rules (nft, iptables) are readable by a non-root login. Probes name files and
    packages whose state comes back in the same answer (facts.files, facts.packages).

    sections: gather only those (kit.facts.sections: the parts of the script printing
    them and what those need) and return onto (default: empty Facts) with the fields they
    give replaced; the probes go with them, answered when "files" or "packages" is one.
    """
    if sections is None:
        text = _script()
    else:
        text = sectioned.cut(_script(), sections)
    raw = raw_facts(conn, text, sudo=sudo, timeout=timeout, probes=probes)
    if sections is None:
        return parse_facts(raw)
    return parse_update(onto if onto is not None else Facts(), raw, sections)


def raw_facts(
    conn: Connection,
    text: str,
    *,
    sudo: bool = False,
    timeout: float | None = 120,
    probes: Probes | None = None,
) -> str:
    """The answer of a facts script (text: gather.sh, or an earlier version of it)."""
    # As an argument, not on stdin: a command with stdin costs an SSH connection a new
    # channel, while an argument travels through its long-lived session.
    asked = probes or Probes()
    args = [*asked.files, "--", *asked.packages]
    cmd = "sh -c %s hostkit-facts" + " %s" * len(args)
    try:
        result = conn.read(cmd, text, *args, sudo=sudo, timeout=timeout).check()
    except CommandTimeout as exc:
        raise CommandTimeout("the facts gather (kit/facts/gather.sh)", exc.timeout) from None
    return result.stdout
