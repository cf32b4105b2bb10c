from pathlib import Path

import pytest

from kit.catalog import profile
from kit.errors import KitValueError
from kit.plugin.scheduling import host_of

CATALOG = Path(__file__).resolve().parents[2] / "checks" / "profiles"


def test_catalog_profiles_load_and_extend():
    worker = profile.load("kubernetes-node", CATALOG)
    plane = profile.load("kubernetes-control-plane", CATALOG)
    assert worker.values("ports_owned") == [(10250, "kubelet"), (10256, "kube-proxy")]
    assert dict(plane.values("ports_owned")) == {
        6443: "kube-apiserver",
        10250: "kubelet",
        10256: "kube-proxy",
        10257: "kube-controller-manager",
        10259: "kube-scheduler",
        2379: "etcd",
        2380: "etcd",
    }
    assert plane.values("modules") == worker.values("modules")  # inherited
    assert ("net.ipv4.ip_forward", "1") in worker.values("sysctls")
    assert plane.order_of("k8s.resources.cpu") is not None
    assert worker.order_of("k8s.resources.cpu") is None
    # A module is loaded before the sysctls it provides.
    assert worker.order_of("k8s.kernel.module") < worker.order_of("k8s.sysctl")


def test_only_the_preflight_profiles_want_ports_free():
    # A joined node's ports are held by their owners; only a node not yet set up has them
    # free.
    for name in ("kubernetes-node", "kubernetes-control-plane", "kubernetes-node-ipvs"):
        assert profile.load(name, CATALOG).order_of("k8s.port.free") is None, name
    worker = profile.load("kubernetes-preflight-worker", CATALOG)
    plane = profile.load("kubernetes-preflight-control-plane", CATALOG)
    for prof in (worker, plane):
        assert prof.order_of("k8s.port.free") is not None
        assert prof.order_of("k8s.port.owner") is None
    assert worker.values("ports_free") == [(10250, "kubelet")]
    assert (6443, "kube-apiserver") in plane.values("ports_free")
    assert ("/etc/kubernetes/pki/ca.crt",) in worker.values("files_absent")
    assert ("/etc/kubernetes/manifests/etcd.yaml",) in plane.values("files_absent")
    assert plane.values("dirs_empty") == [("/var/lib/etcd",)]
    # checks_add extends the worker's list with the control plane's resources.
    assert plane.checks[: len(worker.checks)] == worker.checks
    assert plane.order_of("k8s.resources.memory") == len(worker.checks)


def test_profile_errors_name_the_problem(tmp_path):
    with pytest.raises(KitValueError, match=r"not found.*kubernetes-node"):
        profile.load("nope", CATALOG)
    with pytest.raises(KitValueError, match="invalid profile name"):
        profile.load("../etc", CATALOG)
    (tmp_path / "loop.yaml").write_text("extends: loop\n")
    with pytest.raises(KitValueError, match="extends itself"):
        profile.load("loop", tmp_path)
    (tmp_path / "typo.yaml").write_text("chekcs: []\n")
    with pytest.raises(KitValueError, match=r"unknown key.*chekcs"):
        profile.load("typo", tmp_path)
    (tmp_path / "broken.yaml").write_text("checks: [\n")
    with pytest.raises(KitValueError, match="invalid YAML"):
        profile.load("broken", tmp_path)


def test_zero_is_a_value_not_a_missing_one(tmp_path):
    (tmp_path / "cis.yaml").write_text(
        "checks: [k8s.sysctl]\nparams:\n  sysctls: {net.ipv4.ip_forward: 0}\n"
    )
    assert profile.load("cis", tmp_path).values("sysctls") == [("net.ipv4.ip_forward", "0")]


def test_host_of_picks_the_longest_matching_label():
    labels = ["ssh://node-1", "ssh://node-10", "local://"]
    assert (
        host_of("checks/t.py::test_x[ssh://node-10-net.ipv4.ip_forward=1]", labels)
        == "ssh://node-10"
    )
    assert host_of("checks/t.py::test_x[ssh://node-1-a]", labels) == "ssh://node-1"
    assert host_of("checks/t.py::test_plain", labels) is None


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("extends: 5\n", "extends must be a profile name, not int"),
        ("extends: [base]\n", "extends must be a profile name, not list"),
        ("1: x\nchekcs: []\n", r"unknown key\(s\) 1, chekcs"),
    ],
)
def test_malformed_profile_names_the_file_and_problem(tmp_path, text, complaint):
    (tmp_path / "odd.yaml").write_text(text)
    with pytest.raises(KitValueError, match=complaint) as caught:
        profile.load("odd", tmp_path)
    assert "odd.yaml" in str(caught.value)


def test_non_utf8_profile_names_the_file(tmp_path):
    (tmp_path / "latin.yaml").write_bytes(b"description: caf\xe9\n")
    with pytest.raises(KitValueError, match=r"latin\.yaml: not UTF-8"):
        profile.load("latin", tmp_path)
