"""The containerd fixes on a node whose kubelet and pods they could break.

Stand-ins on the PATH for containerd (it prints containerd 2's `config default`, recorded
in tests/unit/data/containerd) and systemctl (containerd is active), because neither runs
here; the running container is a real process named as containerd's shims are
(containerd-shim), started from a copy of sleep. The kubelet's config is a file under the
test's directory. Nothing is written: the fixes are planned (dry run).
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from pathlib import Path

import pytest

from hostkit_catalog.remediations import runtime
from kit.catalog.remediation import Target
from kit.connection.planning import PlanningConnection
from kit.errors import FixRefused
from tests.local.recording import RecordingConnection
from tests.unit.test_catalog_verdicts import load

DEFAULT = Path(__file__).parent.parent / "unit" / "data" / "containerd" / "containerd2-default.toml"
SYSTEMD = "pid1=systemd\nsystemd-booted\ninit.d"

pytestmark = pytest.mark.skipif(
    Path("/etc/containerd/config.toml").exists() or shutil.which("containerd") is not None,
    reason="this machine has a containerd of its own",
)


@pytest.fixture
def node(tmp_path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tools = {
        "containerd": f'#!/bin/sh\n[ "$1 $2" = "config default" ] && cat {DEFAULT}\nexit 0\n',
        "systemctl": "#!/bin/sh\nexit 0\n",
    }
    for name, text in tools.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return tmp_path


def _target(node: Path, max_disruption: str = "medium") -> Target:
    conn = RecordingConnection(path_prefix=str(node / "bin"))
    facts = dataclasses.replace(load("debian12", init=SYSTEMD), hostname="node")
    return Target(PlanningConnection(conn), facts, dry_run=True, max_disruption=max_disruption)


def _kubelet_config(node: Path, text: str) -> str:
    path = node / "config.yaml"
    path.write_text(text)
    return str(path)


def test_a_cgroupfs_kubelet_is_not_left_behind(node):
    config = _kubelet_config(node, "kind: KubeletConfiguration\ncgroupDriver: cgroupfs\n")
    with pytest.raises(FixRefused) as refused:
        runtime.systemd_cgroup(_target(node), kubelet_config=config)
    assert str(refused.value) == (
        f"the kubelet uses the cgroupfs cgroup driver (cgroupDriver: cgroupfs in {config}): "
        "containerd's runc alone on systemd would break its new pods; change both together "
        "by hand: drain the node, set cgroupDriver: systemd there and SystemdCgroup = true in "
        "/etc/containerd/config.toml, restart containerd and the kubelet"
    )


def test_a_systemd_kubelet_gets_containerd_on_systemd_too(node):
    config = _kubelet_config(node, "kind: KubeletConfiguration\ncgroupDriver: systemd\n")
    plan = runtime.systemd_cgroup(_target(node), kubelet_config=config)
    assert plan.changed and "containerd restarted" in plan.summary


@pytest.fixture
def shim(tmp_path):
    """A running process named as containerd's shims are."""
    exe = tmp_path / "containerd-shim"
    shutil.copy(shutil.which("sleep"), exe)
    proc = subprocess.Popen([str(exe), "60"])
    try:
        yield proc
    finally:
        proc.kill()
        proc.wait()


def test_restarting_containerd_under_running_containers_needs_high(node, shim):
    config = _kubelet_config(node, "kind: KubeletConfiguration\ncgroupDriver: systemd\n")
    with pytest.raises(FixRefused) as refused:
        runtime.systemd_cgroup(_target(node), kubelet_config=config)
    assert str(refused.value).startswith(
        "fix needs --max-disruption=high: restarting containerd with running containers "
    )
    plan = runtime.systemd_cgroup(_target(node, "high"), kubelet_config=config)
    assert "containerd restarted" in plan.summary
