"""containerd on a disposable container: absent, then misconfigured as Docker's
containerd.io leaves it; each time the checks fail naming the problem, --fix repairs it,
and a second --fix changes nothing.

The image's local repository serves Debian 12's containerd (kit/testhosts/image.py), so
the fix installs the real package and the CRI check asks the real daemon.
"""

from __future__ import annotations

import pytest

from tests.hosts import compliance, standins

pytestmark = pytest.mark.hosts

SELECT = "containerd or test_cri or systemd_cgroup or sandbox_image"
PAUSE = "registry.k8s.io/pause:3.10.1"

# As Docker's containerd.io ships it (the CRI disabled), with the settings a node needs
# set the other way, and a comment the fix must keep.
DOCKER_LIKE = """# hostkit: an operator's comment
disabled_plugins = ["cri"]
version = 2

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.6"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
"""


def fail_fix_settle(host, tmp_path, label: str, expect: dict[str, str]) -> None:
    """expect: test-name prefix -> a fragment its failure message must contain."""
    before = compliance.run(host, tmp_path, f"{label}-before", select=SELECT)
    for prefix, fragment in expect.items():
        names = [n for n in before.failing() if n.startswith(prefix)]
        assert names, (prefix, before.cases)
        assert any(fragment in before.cases[n].message for n in names), (
            prefix,
            [before.cases[n].message for n in names],
        )
    # --strict: the sandbox image's check is a warning check, whose fix runs only when asked.
    fixed = compliance.run(host, tmp_path, f"{label}-fix", "--fix", "--strict", select=SELECT)
    # A fix that brings the whole chain can settle a later check before it runs.
    assert fixed.failing() == set(), {n: fixed.cases[n] for n in fixed.failing()}
    assert {c.outcome for c in fixed.cases.values()} <= {"fixed", "passed"}, fixed.cases
    assert any(c.outcome == "fixed" for c in fixed.cases.values()), fixed.cases
    again = compliance.run(host, tmp_path, f"{label}-again", "--fix", "--strict", select=SELECT)
    assert {c.outcome for c in again.cases.values()} == {"passed"}, again.cases
    assert not any(c.fixes for c in again.cases.values())


@pytest.fixture
def host(containers):
    # The last container: the others' scenarios use the first.
    host = containers[-1]
    yield host
    with host.connect() as conn:
        conn.run(
            "apt-get purge -y -qq containerd runc >/dev/null; rm -rf /etc/containerd",
            env={"DEBIAN_FRONTEND": "noninteractive"},
            timeout=600,
        ).check()


def test_containerd_absent_then_misconfigured(host, tmp_path):
    with host.connect() as conn:
        conn.run(
            "apt-get purge -y -qq containerd >/dev/null; rm -rf /etc/containerd",
            env={"DEBIAN_FRONTEND": "noninteractive"},
            timeout=600,
        ).check()
    fail_fix_settle(
        host,
        tmp_path,
        "absent",
        {
            "test_containerd_installed": "containerd is not installed (package containerd)",
            "test_cri[": "containerd is not installed",
            "test_systemd_cgroup": "containerd is not installed",
        },
    )
    with host.connect() as conn:  # independent reads
        conf = conn.run("cat /etc/containerd/config.toml").check().stdout
        assert "SystemdCgroup = true" in conf and f'sandbox_image = "{PAUSE}"' in conf
        assert conn.run("systemctl is-enabled containerd").stdout.strip() == "enabled"
        plugins = conn.run("ctr plugins ls").check().stdout
        assert any(
            line.split()[:2] == ["io.containerd.grpc.v1", "cri"] for line in plugins.splitlines()
        )

        conn.put(DOCKER_LIKE.encode(), "/etc/containerd/config.toml")
        # containerd 1.6 may refuse to start with the CRI both disabled and configured.
        conn.run("systemctl disable -q containerd; systemctl restart containerd || true").check()
    fail_fix_settle(
        host,
        tmp_path,
        "docker-like",
        {
            "test_containerd_service": "not enabled at boot",
            "test_cri[": "disabled_plugins lists 'cri'",
            "test_systemd_cgroup": "SystemdCgroup is False (/etc/containerd/config.toml)",
            "test_sandbox_image": "'registry.k8s.io/pause:3.6' (/etc/containerd/config.toml)",
        },
    )
    with host.connect() as conn:  # independent reads
        conf = conn.run("cat /etc/containerd/config.toml").check().stdout
        assert conf.startswith("# hostkit: an operator's comment\n"), conf
        assert "disabled_plugins = []" in conf and "SystemdCgroup = true" in conf, conf
        status = conn.run("systemctl is-active containerd; systemctl is-enabled containerd")
        assert status.stdout.split() == ["active", "enabled"]


def test_kubelet_unit_enabled_by_the_fix_and_version_skew_named(containers, tmp_path):
    # No Kubernetes repository is reachable here: a stub stands in for the kubelet
    # package's unit and binary, which is all these checks read.
    host = containers[-1]
    select = "kubelet_service or kubelet_version"
    try:
        with host.connect() as conn:
            standins.install_kubelet(conn, "1.31.4")
        before = compliance.run(host, tmp_path, "kubelet-before", select=select)
        messages = {n.split("[")[0]: c.message for n, c in before.cases.items()}
        assert "kubelet service is not enabled (disabled)" in messages["test_kubelet_service"]
        assert (
            "kubelet 1.31.4 is lower than kubeadm 1.35 supports (at least 1.32)"
            in (messages["test_kubelet_version"])
        )
        # --strict: the kubelet service's check is a warning check.
        fixed = compliance.run(host, tmp_path, "kubelet-fix", "--fix", "--strict", select=select)
        outcomes = {n.split("[")[0]: c.outcome for n, c in fixed.cases.items()}
        # The version has no fix: upgrading kubelet needs the Kubernetes repository.
        assert outcomes == {"test_kubelet_service": "fixed", "test_kubelet_version": "failed"}
        with host.connect() as conn:  # independent reads
            assert conn.run("systemctl is-enabled kubelet").stdout.strip() == "enabled"
            conn.put(standins.kubelet_stub("1.35.0"), "/usr/local/bin/kubelet", mode="0755")
        again = compliance.run(host, tmp_path, "kubelet-again", "--fix", "--strict", select=select)
        assert {c.outcome for c in again.cases.values()} == {"passed"}, again.cases
        assert not any(c.fixes for c in again.cases.values())
    finally:
        with host.connect() as conn:
            standins.remove_kubelet(conn)
