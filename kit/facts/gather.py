"""Gather a host's facts: one script sent, one answer read."""

from __future__ import annotations

from collections.abc import Collection
from functools import cache
from importlib import resources

from kit.connection import Connection
from kit.errors import CommandTimeout
from kit.facts import sections
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
) -> Facts:
    """Run the facts script once on the host and parse its answer.

    Never cached: call again after a write to refresh. With sudo, the firewall
    rules (nft, iptables) are readable by a non-root login. Probes name files and
    packages whose state comes back in the same answer (facts.files, facts.packages).
    """
    return parse_facts(raw_facts(conn, _script(), sudo=sudo, timeout=timeout, probes=probes))


def gather_update(
    conn: Connection,
    facts: Facts,
    wanted: Collection[str],
    *,
    sudo: bool = False,
    timeout: float | None = 120,
    probes: Probes | None = None,
) -> Facts:
    """Gather the wanted sections only (kit.facts.sections: the parts of the script that
    print them and what those need) and return facts with their fields replaced.

    The probes go with it: the files and packages sections answer them when wanted."""
    text = sections.cut(_script(), wanted)
    raw = raw_facts(conn, text, sudo=sudo, timeout=timeout, probes=probes)
    return parse_update(facts, raw, wanted)


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
