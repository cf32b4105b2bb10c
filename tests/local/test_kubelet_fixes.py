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


def test_config_dir_listing_finds_the_conf_files_the_kubelet_reads(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("20-b.conf", "10-a.conf", "notes.yaml", "sub/05-c.conf"):
        (tmp_path / name).write_text("kind: KubeletConfiguration\n")
    conn = RecordingConnection()
    listed = kfix.list_dir(conn, str(tmp_path))
    assert listed is not None
    base = str(tmp_path)
    assert kfix.dropin_order(listed) == [
        f"{base}/10-a.conf",
        f"{base}/20-b.conf",
        f"{base}/sub/05-c.conf",
    ]
    assert kfix.list_dir(conn, str(tmp_path / "absent")) is None
