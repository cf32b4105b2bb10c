"""Catalog remediations planned against this machine (dry run: nothing is written)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hostkit_catalog.remediations import network
from kit.catalog.remediation import Target
from kit.connection.planning import PlanningConnection
from kit.errors import KitError
from kit.facts import parse_facts
from tests.local.recording import RecordingConnection

DEBIAN12 = Path(__file__).parent.parent / "unit" / "data" / "facts" / "debian12.txt"


def facts(hostname: str, ipv4: str | None = "192.0.2.2"):
    recorded = parse_facts(DEBIAN12.read_text())
    return dataclasses.replace(recorded, hostname=hostname, ipv4_default=ipv4, ipv6_default=None)


def test_hostname_fix_maps_the_name_to_the_nodes_own_address_not_loopback():
    # kubeadm's HostnameCheck only needs the name to resolve; 127.0.1.1 would make it
    # resolve to loopback, where other nodes cannot reach this one.
    conn = RecordingConnection()
    planning = PlanningConnection(conn)  # as --dry-run plans it: a write would raise
    plan = network.resolve_hostname(Target(planning, facts("hk-node-7"), dry_run=True))
    assert plan.changed and plan.dry_run and not conn.writes()
    added = [
        line for line in plan.diff.splitlines() if line.startswith("+") and "hk-node-7" in line
    ]
    assert added and "192.0.2.2" in added[0] and "127.0.1.1" not in plan.diff


@pytest.mark.parametrize(
    ("name", "ipv4", "why"),
    [("-bad-", "192.0.2.2", "rename the host by hand"), ("good", None, "by hand")],
)
def test_hostname_fix_that_cannot_make_the_name_good_refuses(name, ipv4, why):
    conn = RecordingConnection()
    with pytest.raises(KitError, match=why):
        network.resolve_hostname(Target(conn, facts(name, ipv4), dry_run=True))
    assert not conn.writes()
