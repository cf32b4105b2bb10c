"""`hostkit capture` from a disposable golden node, and the captured profile run against
that node and a second one with planted differences: it passes on the first and fails
exactly the planted differences on the second; `--fix` brings the second's sysctl back.

Each node is tests/local/namespaced_node.py's: its own network namespace (net.* sysctls
are per namespace), /etc and /var/lib overlays, its own listeners and stub programs, with
hostkit run inside it as local://.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

import pytest

from kit.catalog import profile
from kit.catalog.shipped import shipped
from kit.reports import diff
from tests.local.namespaced_node import NodeSpec, Ran, run_in

ROOT = Path(__file__).resolve().parents[2]

# The parent: a few checks whose parameters capture pins, with values the golden node
# does not all meet (kubelet 1.31 is too old for 1.35; the kernel is no 5.x; port 10250
# is held by node-api, not kubelet).
BASE = """\
name: golden-base
extends: kubernetes-node
checks:
  - k8s.sysctl
  - k8s.kernel.version
  - k8s.port.owner
  - k8s.kubelet.version
  - k8s.runtime.sandbox-image
  - k8s.runtime.cri
  - cis.node.kubelet.pod-pids-limit
params:
  kubernetes_version: ["1.35"]
  kernel_release: ['^5\\.']
  sysctls: {net.ipv4.ip_forward: "1", net.ipv4.tcp_syncookies: "1"}
  ports_owned: {10250: kubelet}
  sandbox_image: ["registry.k8s.io/pause:3.10.1"]
  cri_socket: ["unix:///var/run/crio/crio.sock"]
  kubelet_pod_pids_limit: [[/var/lib/kubelet/config.yaml, 4096]]
"""
KUBELET_CONFIG = "/etc/kubernetes/kubelet-config.yaml"
CONTAINERD = (
    'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\n'
    '  sandbox_image = "registry.k8s.io/pause:3.9"\n'
)
BOOT = "net.ipv4.ip_forward = 1\nnet.ipv4.tcp_syncookies = 1\n"
GOLDEN = NodeSpec(
    files={
        "/etc/sysctl.d/90-k8s.conf": BOOT,
        KUBELET_CONFIG: "kind: KubeletConfiguration\npodPidsLimit: 2048\n",
        "/etc/containerd/config.toml": CONTAINERD,
    },
    sysctls={"net.ipv4.ip_forward": "1", "net.ipv4.tcp_syncookies": "1"},
    ports={10250: "node-api", 10256: "node-proxy"},
    kubelet=(
        "/usr/bin/kubelet",
        f"--config={KUBELET_CONFIG}",
        "--container-runtime-endpoint=unix:///run/containerd/containerd.sock",
    ),
)
# The planted differences: a live sysctl, the holder of a port, a kubelet config field
# gone, an older kubelet.
DRIFTED = NodeSpec(
    files={**GOLDEN.files, KUBELET_CONFIG: "kind: KubeletConfiguration\n"},
    sysctls={**GOLDEN.sysctls, "net.ipv4.ip_forward": "0"},
    ports={10250: "node-api", 10256: "rogue"},
    stubs={"kubelet": "#!/bin/sh\necho 'Kubernetes v1.27.3'\n"},
    kubelet=GOLDEN.kubelet,
)
PLANTED = {
    ("k8s.sysctl", "key=net.ipv4.ip_forward,value=1"),
    ("k8s.port.owner", "owner=node-proxy,port=10256"),
    ("k8s.kubelet.version", "version=1.31"),
    ("cis.node.kubelet.pod-pids-limit", f"config={KUBELET_CONFIG},limit=2048"),
}


def hostkit(*args: str) -> str:
    return shlex.join([sys.executable, "-m", "kit.cli.main", *args])


def run(report: Path, *more: str) -> str:
    command = "fix" if "--fix" in more else "check"
    rest = [a for a in more if a != "--fix"]
    return hostkit(
        command,
        "-p",
        "no:cacheprovider",
        "--hosts=local://",
        f"--report-json={report}",
        *rest,
    )


def not_passing(report: Path) -> set[tuple[str, str]]:
    results = json.loads(report.read_text())["results"]
    return {
        (r["check"], ",".join(f"{k}={v}" for k, v in sorted(r["params"].items())))
        for r in results
        if r["outcome"] != "passed"
    }


def outcomes(report: Path) -> dict[tuple[str, str], str]:
    return {
        (r["check"], ",".join(f"{k}={v}" for k, v in sorted(r["params"].items()))): r["outcome"]
        for r in json.loads(report.read_text())["results"]
    }


def chain(*commands: str) -> str:
    # Each command's exit code kept in order: a check run that fails is not the end.
    return "; ".join(f"{c}; echo rc=$?" for c in commands)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "golden-base.yaml").write_text(BASE)
    return profiles / "site.yaml"


def in_node(tmp_path: Path, name: str, spec: NodeSpec, *commands: str) -> Ran:
    ran = run_in(tmp_path / name, spec, f"cd {shlex.quote(str(tmp_path))}; " + chain(*commands))
    assert "Traceback" not in ran.out + ran.err, ran.out + ran.err
    return ran


def test_a_captured_profile_passes_on_its_node_and_fails_the_planted_differences(tmp_path, site):
    golden, drifted = tmp_path / "golden.json", tmp_path / "drifted.json"
    base = tmp_path / "base.json"
    ran = in_node(
        tmp_path,
        "golden",
        GOLDEN,
        run(base, f"--profile={site.parent / 'golden-base.yaml'}"),
        hostkit("capture", "--hosts=local://", "--profile=golden-base", f"-o={site}"),
        run(golden, f"--profile={site}"),
    )
    codes = [line for line in ran.out.splitlines() if line.startswith("rc=")]
    assert codes == ["rc=1", "rc=0", "rc=0"], ran.out
    # The parent fails on the golden node; the profile captured from it passes there,
    # every check of the parent run, with the golden node's values.
    assert not_passing(base)
    assert {c for c, _ in outcomes(golden)} == {c for c, _ in outcomes(base)}
    assert ("k8s.port.owner", "owner=node-proxy,port=10256") in outcomes(golden)
    assert ("k8s.runtime.cri", "socket=unix:///run/containerd/containerd.sock") in outcomes(golden)
    assert not_passing(golden) == set()
    loaded = profile.load(str(site), [site.parent, shipped() / "profiles"])
    assert loaded.parents[0] == site.parent / "golden-base.yaml"
    ran = in_node(tmp_path, "drifted", DRIFTED, run(drifted, f"--profile={site}"))
    assert not_passing(drifted) == PLANTED, ran.out
    # `report diff` of the two runs names the same cells, the failures as new ones (the
    # pod PIDs limit is a warning: a change, not a failure).
    found = diff.changes(json.loads(golden.read_text()), json.loads(drifted.read_text()))
    planted = {
        diff.label(r)
        for r in json.loads(drifted.read_text())["results"]
        if (r["check"], ",".join(f"{k}={v}" for k, v in sorted(r["params"].items()))) in PLANTED
    }
    assert {c.check for c in found} == planted
    assert {c.kind for c in found if c.check.startswith("cis.")} == {"changed"}
    assert {c.kind for c in found if not c.check.startswith("cis.")} == {"failed"}


def test_fix_brings_the_drifted_sysctl_back_to_the_golden_value(tmp_path, site):
    in_node(
        tmp_path,
        "golden",
        GOLDEN,
        hostkit("capture", "--hosts=local://", "--profile=golden-base", f"-o={site}"),
    )
    before, fixed, after = (tmp_path / f"{n}.json" for n in ("before", "fixed", "after"))
    ran = in_node(
        tmp_path,
        "drifted",
        DRIFTED,
        run(before, f"--profile={site}"),
        run(fixed, f"--profile={site}", "--fix", "--check=k8s.sysctl"),
        run(after, f"--profile={site}"),
        "cat /proc/sys/net/ipv4/ip_forward",
    )
    sysctl = ("k8s.sysctl", "key=net.ipv4.ip_forward,value=1")
    assert outcomes(before)[sysctl] == "failed"
    assert outcomes(fixed)[sysctl] == "fixed", ran.out
    assert not_passing(after) == PLANTED - {sysctl}
    assert ran.out.splitlines()[-2] == "1"
