"""The kubelet's CIS fixes on this machine, over files under a temporary directory."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hostkit_catalog.remediations import kubelet as kfix
from kit.catalog.remediation import Target
from kit.facts import parse_facts
from tests.local.recording import RecordingConnection

DEBIAN12 = Path(__file__).parent.parent / "unit" / "data" / "facts" / "debian12.txt"


def target(conn, dry_run: bool = False) -> Target:
    facts = dataclasses.replace(parse_facts(DEBIAN12.read_text()), hostname="hk-node")
    return Target(conn, facts, dry_run=dry_run)


def test_a_missing_proxy_kubeconfig_is_refused_not_created(tmp_path):
    # kube-bench warns when it is absent; there is no file to restrict, and creating
    # kube-proxy's kubeconfig is not the fix's to do.
    conn = RecordingConnection()
    missing = str(tmp_path / "proxy.conf")
    for fix in (kfix.restrict_kubeconfig, kfix.own_kubeconfig):
        with pytest.raises(kfix.KubeletError, match=f"{missing} does not exist"):
            fix(target(conn), path=missing)
    assert not conn.writes()
    assert not Path(missing).exists()
