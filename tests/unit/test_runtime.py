"""Container runtime and kubelet verdicts over recorded outputs.

Recordings in data/containerd: Debian 12's containerd 1.6.20 package, its shipped
config.toml and its `containerd config default` (both real); Docker's containerd.io
config.toml, which Rocky and RHEL nodes install from Docker's repository and Ubuntu hosts
often do (its `disabled_plugins = ["cri"]`, as the package ships it); a containerd 2.x
`config default` (version 3), shortened to the tables these checks read; and
`ctr plugins ls` from a Debian 12 test host (a systemd-nspawn container); kubespray's
config.toml for containerd 2.3 (version 4), rendered from its
roles/container-engine/containerd/templates/config.toml.j2 with the role's defaults and
containerd_use_systemd_cgroup false.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hostkit_catalog.checks import test_runtime
from hostkit_catalog.checks.test_runtime import (
    cri_problem,
    kubelet_skew_error,
    kubelet_version,
    setting_problem,
    socket_path,
)
from hostkit_catalog.remediations import runtime as fixes
from kit.edits import containerd
from kit.errors import KitValueError
from tests.unit.test_catalog_verdicts import load

DATA = Path(__file__).parent / "data" / "containerd"
SOCKET = "/run/containerd/containerd.sock"
PAUSE = "registry.k8s.io/pause:3.10.1"


def text(name: str) -> str:
    return (DATA / name).read_text()


DEBIAN_FILE = text("debian12-config.toml")
DEBIAN_DEFAULT = text("debian12-default.toml")
DOCKER_FILE = text("containerd.io-config.toml")
V3_DEFAULT = text("containerd2-default.toml")
PLUGINS = text("debian12-ctr-plugins-ls.txt")
KUBESPRAY_V4 = text("kubespray-v4-config.toml")


# -- package per OS family ------------------------------------------------------------


@pytest.mark.parametrize(
    ("recording", "package"),
    [("debian12", "containerd"), ("ubuntu2204", "containerd"), ("rocky9", "containerd.io")],
)
def test_containerd_package_per_family(recording, package):
    assert fixes.package_for(load(recording)) == package


# -- SystemdCgroup --------------------------------------------------------------------


def test_debians_shipped_config_leaves_systemd_cgroup_to_the_default_false():
    config = containerd.effective(DEBIAN_FILE, DEBIAN_DEFAULT)
    problem = setting_problem(config, containerd.SYSTEMD_CGROUP, True)
    assert problem == (
        "plugins.io.containerd.grpc.v1.cri.containerd.runtimes.runc.options.SystemdCgroup is "
        "False (containerd's default), want true"
    )


def test_version_3_keeps_systemd_cgroup_under_the_cri_runtime_plugin():
    config = containerd.effective(None, V3_DEFAULT)
    problem = setting_problem(config, containerd.SYSTEMD_CGROUP, True)
    assert problem is not None
    assert problem.startswith("plugins.io.containerd.cri.v1.runtime.containerd.runtimes.runc")
    fixed = containerd.set_value(V3_DEFAULT, containerd.SYSTEMD_CGROUP, True)
    assert (
        setting_problem(containerd.effective(fixed, V3_DEFAULT), containerd.SYSTEMD_CGROUP, True)
        is None
    )
    # The version 2 key is not where containerd 2 reads it.
    assert "io.containerd.grpc.v1.cri'.containerd" not in fixed


def test_no_config_file_means_containerds_defaults():
    config = containerd.effective(None, DEBIAN_DEFAULT)
    assert config.version == 2
    assert setting_problem(config, containerd.SANDBOX_IMAGE, PAUSE) == (
        "plugins.io.containerd.grpc.v1.cri.sandbox_image is 'registry.k8s.io/pause:3.6' "
        f"(containerd's default), want {PAUSE!r}"
    )


def test_a_string_true_is_not_the_boolean_containerd_reads():
    edited = DEBIAN_FILE + (
        '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]\n'
        'SystemdCgroup = "true"\n'
    )
    config = containerd.effective(edited, DEBIAN_DEFAULT)
    assert "is 'true' (/etc/containerd/config.toml), want true" in setting_problem(
        config, containerd.SYSTEMD_CGROUP, True
    )


def test_dockers_versionless_file_reads_as_the_installed_containerds_version():
    # It configures no plugin, only disabled_plugins: nothing in it is version 1's own.
    config = containerd.effective(DOCKER_FILE, V3_DEFAULT)
    assert config.version == 3
    assert "SystemdCgroup is False (containerd's default)" in setting_problem(
        config, containerd.SYSTEMD_CGROUP, True
    )
    edited = containerd.set_value(DOCKER_FILE, containerd.SYSTEMD_CGROUP, True, default_version=3)
    assert edited.startswith("version = 3\n#   Copyright 2018-2022 Docker Inc.")
    assert (
        setting_problem(containerd.effective(edited, V3_DEFAULT), containerd.SYSTEMD_CGROUP, True)
        is None
    )


def test_version_4_reads_and_edits_like_version_3():
    # containerd's config migration from 3 to 4 (cmd/containerd/server/config/config.go
    # serviceMigrate) moves only the server's own grpc, ttrpc, debug and metrics tables
    # into plugins; the CRI plugins keep their names and keys.
    config = containerd.effective(KUBESPRAY_V4, V3_DEFAULT)
    assert config.version == 4
    assert test_runtime._config_problem(config) is None
    assert setting_problem(config, containerd.SYSTEMD_CGROUP, True) == (
        "plugins.io.containerd.cri.v1.runtime.containerd.runtimes.runc.options.SystemdCgroup "
        "is False (/etc/containerd/config.toml), want true"
    )
    assert setting_problem(config, containerd.SANDBOX_IMAGE, "registry.k8s.io/pause:3.10") is None
    edited = containerd.set_value(KUBESPRAY_V4, containerd.SYSTEMD_CGROUP, True)
    changed = [
        (a, b)
        for a, b in zip(KUBESPRAY_V4.splitlines(), edited.splitlines(), strict=True)
        if a != b
    ]
    assert changed == [("           SystemdCgroup = false", "           SystemdCgroup = true")]
    disabled = "version = 4\ndisabled_plugins = ['io.containerd.cri.v1.images']\n"
    assert containerd.effective(disabled, V3_DEFAULT).disabled_cri() == [
        "io.containerd.cri.v1.images"
    ]
    assert tomllib.loads(containerd.enable_cri(disabled))["disabled_plugins"] == []


def test_config_versions_the_kit_does_not_know_are_named():
    assert test_runtime._config_problem(containerd.effective("[plugins.cri]\n", None)) == (
        "/etc/containerd/config.toml is config version 1: containerd 2 no longer reads it "
        "(migrate it with `containerd config migrate`)"
    )
    assert test_runtime._config_problem(containerd.effective("version = 5\n", None)) == (
        "/etc/containerd/config.toml is config version 5, newer than this kit knows "
        "(2 to 4): check it by hand"
    )
    with pytest.raises(KitValueError, match="config version 5; only versions 2 to 4"):
        containerd.set_value("version = 5\n", containerd.SYSTEMD_CGROUP, True)


# -- the edits keep the file --------------------------------------------------------------


def test_setting_keys_in_debians_file_keeps_everything_else():
    once = containerd.set_value(DEBIAN_FILE, containerd.SYSTEMD_CGROUP, True)
    once = containerd.set_value(once, containerd.SANDBOX_IMAGE, PAUSE)
    doc = tomllib.loads(once)
    before = tomllib.loads(DEBIAN_FILE)
    assert (
        doc["plugins"]["io.containerd.grpc.v1.cri"]["cni"]
        == before["plugins"]["io.containerd.grpc.v1.cri"]["cni"]
    )
    assert doc["plugins"]["io.containerd.internal.v1.opt"] == {"path": "/var/lib/containerd/opt"}
    config = containerd.effective(once, DEBIAN_DEFAULT)
    assert setting_problem(config, containerd.SYSTEMD_CGROUP, True) is None
    assert setting_problem(config, containerd.SANDBOX_IMAGE, PAUSE) is None
    for line in DEBIAN_FILE.splitlines():
        assert line in once.splitlines(), line
    # Idempotent: a second edit returns the text it was given.
    assert containerd.set_value(once, containerd.SYSTEMD_CGROUP, True) == once
    assert containerd.set_value(once, containerd.SANDBOX_IMAGE, PAUSE) == once


def test_setting_a_key_in_the_full_default_changes_only_that_line():
    edited = containerd.set_value(DEBIAN_DEFAULT, containerd.SYSTEMD_CGROUP, True)
    changed = [
        (a, b)
        for a, b in zip(DEBIAN_DEFAULT.splitlines(), edited.splitlines(), strict=True)
        if a != b
    ]
    assert changed == [("            SystemdCgroup = false", "            SystemdCgroup = true")]


def test_version_1_and_broken_files_are_refused_by_name():
    with pytest.raises(KitValueError, match="config version 1"):
        containerd.set_value("[plugins.cri]\n", containerd.SYSTEMD_CGROUP, True)
    with pytest.raises(KitValueError, match="is not valid TOML"):
        containerd.effective("version = 2\n[plugins\n", DEBIAN_DEFAULT)


# -- the CRI plugin ---------------------------------------------------------------------


def test_dockers_containerd_io_disables_the_cri_and_the_fix_enables_it():
    config = containerd.effective(DOCKER_FILE, DEBIAN_DEFAULT)
    problem = cri_problem(config, SOCKET, True, (True, PLUGINS, ""))
    assert (
        problem
        == "/etc/containerd/config.toml turns the CRI plugin off: disabled_plugins lists 'cri'"
    )
    fixed = containerd.enable_cri(DOCKER_FILE)
    assert tomllib.loads(fixed)["disabled_plugins"] == []
    assert "#   Copyright 2018-2022 Docker Inc." in fixed
    assert containerd.enable_cri(fixed) == fixed
    assert (
        cri_problem(containerd.effective(fixed, DEBIAN_DEFAULT), SOCKET, True, (True, PLUGINS, ""))
        is None
    )


def test_version_3_also_counts_the_cri_runtime_plugins_as_the_cri():
    disabled = "version = 3\ndisabled_plugins = ['io.containerd.cri.v1.runtime', 'zfs']\n"
    config = containerd.effective(disabled, V3_DEFAULT)
    assert config.disabled_cri() == ["io.containerd.cri.v1.runtime"]
    assert tomllib.loads(containerd.enable_cri(disabled))["disabled_plugins"] == ["zfs"]


def test_cri_plugin_status_from_ctr_plugins_ls():
    assert containerd.plugin_status(PLUGINS, "io.containerd.grpc.v1", "cri") == "ok"
    assert containerd.plugin_status(PLUGINS, "io.containerd.snapshotter.v1", "zfs") == "skip"
    without = "\n".join(line for line in PLUGINS.splitlines() if " cri " not in line)
    config = containerd.effective(DEBIAN_FILE, DEBIAN_DEFAULT)
    assert cri_problem(config, SOCKET, True, (True, without, "")) == (
        f"containerd on {SOCKET} has no CRI plugin loaded"
    )
    failed = "\n".join(
        line.replace(" ok", " error")
        if line.split()[:2] == ["io.containerd.grpc.v1", "cri"]
        else line
        for line in PLUGINS.splitlines()
    )
    assert "did not start (status error)" in cri_problem(config, SOCKET, True, (True, failed, ""))


def test_no_socket_or_no_answer_names_the_socket():
    config = containerd.effective(DEBIAN_FILE, DEBIAN_DEFAULT)
    assert cri_problem(config, SOCKET, False, None) == (
        f"no CRI socket at {SOCKET}: containerd is not running or listens elsewhere"
    )
    refused = (
        False,
        "",
        'ctr: failed to dial "/run/containerd/containerd.sock": connection refused\n',
    )
    dial = f'ctr: failed to dial "{SOCKET}": connection refused'
    assert (
        cri_problem(config, SOCKET, True, refused)
        == f"containerd does not answer on {SOCKET}: {dial}"
    )


def test_socket_path_of_a_cri_endpoint():
    assert socket_path("unix:///run/containerd/containerd.sock") == SOCKET
    assert socket_path(SOCKET) == SOCKET


# -- kubelet: kubeadm checks.go KubeletVersionCheck.Check, constants.go ---------------


def test_kubelet_version_output():
    assert kubelet_version("Kubernetes v1.35.0\n") == (1, 35, 0)
    assert kubelet_version("Kubernetes v1.34.2-rc.1\n") == (1, 34, 2)
    assert kubelet_version("kubelet: command not found") is None


@pytest.mark.parametrize(
    ("kubelet", "kubernetes", "verdict"),
    [
        ((1, 35, 0), (1, 35), None),
        # MinimumKubeletVersion is getSkewedKubernetesVersion(-3): 1.32.0 for kubeadm 1.35.
        ((1, 32, 0), (1, 35), None),
        ((1, 31, 9), (1, 35), "lower than kubeadm 1.35 supports (at least 1.32)"),
        # A kubelet newer than the control plane, by a patch it is not: minors compare.
        ((1, 36, 0), (1, 35), "newer than the control plane (1.35)"),
        ((1, 35, 9), (1, 35), None),
    ],
)
def test_kubelet_skew_as_kubeadm_rules(kubelet, kubernetes, verdict):
    error = kubelet_skew_error(kubelet, kubernetes)
    if verdict is None:
        assert error is None
    else:
        assert error is not None and verdict in error


# -- the profile ------------------------------------------------------------------------


def test_the_node_profile_runs_the_runtime_and_kubelet_checks_with_their_params():
    from kit.catalog import profile

    node = profile.load("kubernetes-node", Path(test_runtime.__file__).parent / "profiles")
    for check_id in (
        "k8s.runtime.containerd.installed",
        "k8s.runtime.containerd.service",
        "k8s.runtime.cri",
        "k8s.runtime.systemd-cgroup",
        "k8s.runtime.sandbox-image",
        "k8s.kubelet.service",
        "k8s.kubelet.version",
    ):
        assert node.order_of(check_id) is not None, check_id
    assert node.values("cri_socket") == [("unix:///run/containerd/containerd.sock",)]
    assert node.values("sandbox_image") == [(PAUSE,)]


def test_containerd_absent_on_a_host_without_systemd_fails_as_not_installed():
    # No init system the kit knows, no containerd: the verdict is the missing package, not
    # an error about the init system (this machine's own case, under a process supervisor).
    facts = load(
        "debian12",
        runtime_containerd_path="@@begin\nrc=1\n@@end\n",
        runtime_units="",
    )
    assert facts.init_system.type != "systemd"
    with pytest.raises(AssertionError, match="containerd is not installed"):
        test_runtime.test_containerd_service(None, facts)


# -- containerd as installers leave it ----------------------------------------------------


def test_a_loaded_unit_counts_as_containerd_installed_even_without_its_binary_found():
    # kubespray's unit, written to /etc/systemd/system, for a containerd in its bin_dir.
    shown = "LoadState=loaded\nFragmentPath=/etc/systemd/system/containerd.service\n"
    found = fixes.parse_installation(shown)
    assert found.found and found.binary is None
    assert found.describe() == "its unit /etc/systemd/system/containerd.service"
    assert not fixes.parse_installation("LoadState=not-found\nFragmentPath=\n").found


def test_dockers_package_is_named_as_the_owner():
    found = fixes.parse_installation("binary=/usr/bin/containerd\npackage=containerd.io\n")
    assert found.describe() == "/usr/bin/containerd from package containerd.io"
    assert fixes.parse_installation("binary=/usr/local/bin/containerd\npackage=\n").package is None


# -- the kubelet's cgroup driver against containerd's ---------------------------------------


def _kubelet(config: str | None, extra: str | None = None):
    from tests.unit.test_cis_node import node

    return node(config, extra)


def test_the_kubelets_cgroup_driver_as_kubeadm_writes_it_and_as_the_kubelet_defaults_it():
    from tests.unit.test_cis_node import CONFIG

    assert fixes.driver_of(_kubelet(CONFIG)) == fixes.KubeletDriver(
        "systemd", "cgroupDriver: systemd in /var/lib/kubelet/config.yaml"
    )
    # The kubelet's own default (pkg/kubelet/apis/config/v1beta1/defaults.go) is cgroupfs.
    bare = CONFIG.replace("cgroupDriver: systemd\n", "")
    assert fixes.driver_of(_kubelet(bare)) == fixes.KubeletDriver(
        "cgroupfs",
        "/var/lib/kubelet/config.yaml sets no cgroupDriver: the kubelet's default, cgroupfs",
    )
    flagged = fixes.driver_of(_kubelet(CONFIG, 'KUBELET_EXTRA_ARGS="--cgroup-driver=cgroupfs"\n'))
    assert flagged.driver == "cgroupfs" and flagged.where.startswith("flag --cgroup-driver")
    # Before kubeadm joins there is no config: kubeadm will write systemd.
    assert fixes.driver_of(_kubelet(None)).driver is None


def test_cgroup_drivers_that_differ_are_named():
    from tests.unit.test_cis_node import CONFIG

    config = containerd.effective(DEBIAN_FILE, DEBIAN_DEFAULT)  # SystemdCgroup false
    problem = test_runtime.cgroup_driver_problem(fixes.driver_of(_kubelet(CONFIG)), config)
    assert problem == (
        "the kubelet uses the systemd cgroup driver (cgroupDriver: systemd in "
        "/var/lib/kubelet/config.yaml) and containerd's runc the cgroupfs driver "
        "(SystemdCgroup is False, containerd's default): they must agree"
    )
    fixed = containerd.effective(
        containerd.set_value(DEBIAN_FILE, containerd.SYSTEMD_CGROUP, True), DEBIAN_DEFAULT
    )
    assert test_runtime.cgroup_driver_problem(fixes.driver_of(_kubelet(CONFIG)), fixed) is None
    bare = CONFIG.replace("cgroupDriver: systemd\n", "")
    assert test_runtime.cgroup_driver_problem(fixes.driver_of(_kubelet(bare)), config) is None
