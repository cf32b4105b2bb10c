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


# -- issue 23: the profiles follow kubeadm's preflight of the profile's version ----------


def _catalog():
    from kit.catalog import describe

    return describe.checks(CATALOG.parent)


def test_worker_join_checks_only_what_kubeadm_join_checks():
    # checks.go JoinNodeChecks (kubeadm >= 1.23, kubernetes/kubernetes#104942): kubelet.conf,
    # bootstrap-kubelet.conf and, for a worker, the CA absent; no manifests directory check
    # (kubespray puts its nginx-proxy static pod there before joining).
    worker = profile.load("kubernetes-preflight-worker", CATALOG)
    assert worker.values("files_absent") == [
        ("/etc/kubernetes/kubelet.conf",),
        ("/etc/kubernetes/bootstrap-kubelet.conf",),
        ("/etc/kubernetes/pki/ca.crt",),
    ]
    assert ("/etc/kubernetes/manifests",) not in worker.values("dirs_empty")
    assert worker.order_of("k8s.dir.empty") is None


def test_control_plane_preflight_keeps_the_kubelet_conf_checks():
    # kubeadm join --control-plane runs JoinNodeChecks (kubelet.conf, bootstrap-kubelet.conf;
    # no CA: cfg.ControlPlane != nil) and then InitNodeChecks (the static pod manifests).
    plane = profile.load("kubernetes-preflight-control-plane", CATALOG)
    absent = [v[0] for v in plane.values("files_absent")]
    assert "/etc/kubernetes/kubelet.conf" in absent
    assert "/etc/kubernetes/bootstrap-kubelet.conf" in absent
    assert "/etc/kubernetes/manifests/kube-apiserver.yaml" in absent
    assert "/etc/kubernetes/pki/ca.crt" not in absent
    assert plane.order_of("k8s.dir.empty") is not None
    assert plane.values("dirs_empty") == [("/var/lib/etcd",)]


def test_dual_stack_adds_to_its_parents_checks():
    node = profile.load("kubernetes-node", CATALOG)
    dual = profile.load("kubernetes-node-dual-stack", CATALOG)
    missing = [c for c in node.checks if c not in dual.checks]
    assert not missing, missing
    assert dual.order_of("k8s.sysctl.dual-stack") is not None
    # No ports_free in the profile: k8s.port.free is not selected.
    assert dual.order_of("k8s.port.free") is None


def test_every_shipped_profile_gives_each_selected_check_its_values():
    catalog = _catalog()
    for name in profile.available(CATALOG):
        profile.validate(profile.load(name, CATALOG), catalog)


def test_a_selected_check_without_values_is_a_profile_error(tmp_path):
    catalog = _catalog()
    (tmp_path / "bare.yaml").write_text("checks: [k8s.sysctl, k8s.swap.off]\n")
    with pytest.raises(KitValueError, match=r"k8s\.sysctl.*params\.sysctls.*none"):
        profile.validate(profile.load("bare", tmp_path), catalog)
    # Also when a pattern selects it, and when a host's own values empty it.
    (tmp_path / "glob.yaml").write_text("checks: ['k8s.port.*']\nparams: {ports_owned: {1: x}}\n")
    with pytest.raises(KitValueError, match=r"k8s\.port\.free.*'k8s\.port\.\*'.*ports_free"):
        profile.validate(profile.load("glob", tmp_path), catalog)
    (tmp_path / "ok.yaml").write_text("checks: [k8s.sysctl]\nparams: {sysctls: {a.b: 1}}\n")
    ok = profile.load("ok", tmp_path)
    profile.validate(ok, catalog)
    with pytest.raises(KitValueError, match=r"inventory host n1: .*params\.sysctls"):
        # A host's mapping merges into the profile's: null takes its only key out.
        profile.validate(ok.with_params({"sysctls": {"a.b": None}}), catalog, "inventory host n1")


def test_bridge_nf_call_is_no_kubeadm_error_from_1_30():
    # kubeadm removed the bridge-nf-call preflight checks in v1.30
    # (kubernetes/kubernetes#123464): the 1.35 node profile does not demand them as errors;
    # kubespray still sets them (its installer group, a warning).
    node = profile.load("kubernetes-node", CATALOG)
    sysctls = dict(node.values("sysctls"))
    assert "net.bridge.bridge-nf-call-iptables" not in sysctls
    assert "net.bridge.bridge-nf-call-ip6tables" not in sysctls
    installer = dict(node.values("sysctls_installer"))
    assert installer["net.bridge.bridge-nf-call-iptables"] == "1"
    assert installer["net.bridge.bridge-nf-call-ip6tables"] == "1"
    assert node.order_of("k8s.sysctl.bridge-nf-call") is not None


def test_the_readme_says_what_each_shipped_profile_follows():
    readme = (CATALOG.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Profiles and their checks") :]
    table = section[: section.index("<!-- catalog:begin")]
    for name in profile.available(CATALOG):
        row = next((r for r in table.splitlines() if r.startswith(f"| `{name}` |")), None)
        assert row is not None, f"README does not say what {name} follows"
    assert "kubernetes_version" in table and "cis-1.12" in table
