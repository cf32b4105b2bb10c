"""The kubelet's CIS fixes on this machine, over files under a temporary directory."""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from hostkit_catalog.remediations import kubelet as kfix
from kit.catalog.remediation import Target
from kit.connection.planning import PlanningConnection
from kit.facts import gather_facts, parse_facts
from kit.facts.model import Runtime
from tests.local.recording import RecordingConnection
from tests.local.test_planning_connection import STAND_IN_INIT

DEBIAN12 = Path(__file__).parent.parent / "unit" / "data" / "facts" / "debian12.txt"


def target(conn, dry_run: bool = False) -> Target:
    # The recorded Debian host, with an init system whose commands touch nothing here.
    recorded = parse_facts(DEBIAN12.read_text())
    facts = dataclasses.replace(recorded, hostname="hk-node", init_system=STAND_IN_INIT)
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


def test_setting_fix_plans_the_config_file_edit_and_a_kubelet_restart(tmp_path):
    config = tmp_path / "config.yaml"
    config.write_text("kind: KubeletConfiguration\nreadOnlyPort: 10255\n")
    conn = RecordingConnection()
    planning = PlanningConnection(conn)  # as --dry-run plans it: a write would raise
    plan = kfix.set_read_only_port(target(planning, dry_run=True), config=str(config))
    assert plan.changed and plan.dry_run and not conn.writes()
    assert "+readOnlyPort: 0" in plan.diff
    assert "restart" in plan.summary and "kubelet" in plan.summary
    assert "regenerated" not in plan.summary  # a file no installer rewrites


@contextlib.contextmanager
def stand_in(directory: Path, name: str):
    """A process called name (a copy of sleep): /proc/PID/comm is name."""
    program = directory / name
    shutil.copy(shutil.which("sleep") or "/bin/sleep", program)
    proc = subprocess.Popen([str(program), "30", "1"])
    try:
        comm = Path(f"/proc/{proc.pid}/comm")
        for _ in range(100):  # until the child has exec'd the stand-in
            if comm.read_text().strip() == name:
                break
            time.sleep(0.02)
        yield proc.pid, (str(program), "30", "1")
    finally:
        proc.kill()
        proc.wait()


@pytest.fixture
def stand_in_kubelet(tmp_path):
    with stand_in(tmp_path, "kubelet") as found:
        yield found


def test_the_running_kubelets_command_line_is_read_from_proc(stand_in_kubelet):
    pid, args = stand_in_kubelet
    found = kfix.read_process(RecordingConnection())
    assert found == kfix.Process(str(pid), args)


def test_the_gather_reads_the_running_kubelet_as_the_fix_does(stand_in_kubelet):
    pid, args = stand_in_kubelet
    conn = RecordingConnection()
    facts = gather_facts(conn)
    assert facts.kubelet_files is not None and facts.kubelet_files.dump is not None
    assert kfix.parse_process(facts.kubelet_files.dump) == kfix.Process(str(pid), args)


def test_kube_proxys_metrics_lines_are_read_and_nothing_else(tmp_path):
    kubeconfig = tmp_path / "proxy.conf"
    kubeconfig.write_text(
        "apiVersion: v1\nusers:\n- user:\n    client-key-data: SECRETKEYDATA\n"
        "metricsBindAddress: 0.0.0.0:10249\n"
    )
    read = kfix.read_metrics(RecordingConnection(), str(kubeconfig))
    assert read.exists and "SECRETKEYDATA" not in read.text
    assert "0.0.0.0:10249" in (kfix.proxy_metrics_problem(None, read) or "")
    assert not kfix.read_metrics(RecordingConnection(), str(tmp_path / "absent")).exists


def test_the_gather_reads_the_running_kube_proxy_apart_from_the_kubelet(tmp_path):
    with stand_in(tmp_path, "kube-proxy") as (pid, args):
        conn = RecordingConnection()
        dump = gather_facts(conn).kubelet_files.dump
        assert kfix.parse_process(dump, "kube-proxy") == kfix.Process(str(pid), args)
        assert kfix.read_process(conn, "kube-proxy") == kfix.Process(str(pid), args)
        assert kfix.parse_process(dump) is None  # no kubelet runs here


@pytest.mark.parametrize(("version", "mode"), [("1.28.4", 0o600), ("1.34.1", 0o644)])
def test_ca_file_fix_takes_the_mode_the_nodes_benchmark_wants(tmp_path, version, mode):
    # 4.1.7: 600 in cis-1.10 (Kubernetes 1.28), 644 from cis-1.11.
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    ca.chmod(0o644)
    config = tmp_path / "config.yaml"
    config.write_text(f"authentication:\n  x509:\n    clientCAFile: {ca}\n")
    base = target(RecordingConnection())
    facts = dataclasses.replace(
        base.facts, runtime=Runtime(kubelet_version=(0, f"Kubernetes v{version}\n"))
    )
    kfix.restrict_client_ca(Target(base.conn, facts), config=str(config), ca_file="/absent")
    assert ca.stat().st_mode & 0o777 == mode
