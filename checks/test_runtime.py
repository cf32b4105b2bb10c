"""The container runtime (containerd) and kubelet, as kubeadm's preflight and the
installers' containerd roles leave a node.

kubeadm asks the CRI for its status (crictl info, or the CRI client's Status call). A
Debian 12 node has no crictl (it comes from the Kubernetes repository), so the CRI check
asks containerd itself, through its own client `ctr`, whether the CRI plugin loaded
("ok"), and reads config.toml for a disabled_plugins entry that turns it off: a
disabled plugin is simply not listed, and Docker's containerd.io disables it by default.
"""

import re

import pytest

from hostkit_catalog.remediations import runtime as fixes
from kit.catalog.check import check
from kit.edits import containerd
from kit.runner import files

_UNIX = "unix://"


def socket_path(socket: str) -> str:
    """The file of a CRI endpoint such as unix:///run/containerd/containerd.sock."""
    return socket[len(_UNIX) :] if socket.startswith(_UNIX) else socket


def _not_installed(facts) -> str:
    package = fixes.package_for(facts)
    return "containerd is not installed" + (f" (package {package})" if package else "")


def _gathered(facts):
    return getattr(facts, "runtime", None)


def read_config(conn, facts) -> containerd.Config:
    """fixes.read_config, over what the facts gather read where it read config.toml."""
    runtime = _gathered(facts)
    # kit.runner.files.stat_and_read's answer: "absent", or the stat line and the text.
    head, _, content = (runtime.config or "").partition("\n")
    if runtime is None or (head != "absent" and len(head.split()) != 3):
        return fixes.read_config(conn)
    return containerd.effective(content if head != "absent" else None, runtime.config_default)


def _config(conn, facts) -> containerd.Config:
    config = read_config(conn, facts)
    assert config.version is not None, _not_installed(facts)
    problem = _config_problem(config)
    assert problem is None, problem
    return config


def _config_problem(config: containerd.Config) -> str | None:
    """Why the checks cannot read config.toml's settings: a version they do not know."""
    known = containerd.VERSIONS
    if config.version in known:
        return None
    if config.version is not None and config.version > known[-1]:
        return (
            f"{containerd.CONFIG} is config version {config.version}, newer than this kit "
            f"knows ({known[0]} to {known[-1]}): check it by hand"
        )
    return (
        f"{containerd.CONFIG} is config version {config.version}: containerd 2 no longer "
        "reads it (migrate it with `containerd config migrate`)"
    )


@check(
    "k8s.runtime.containerd.installed",
    "containerd is installed",
    refs={
        "kubespray": "roles/container-engine/containerd/tasks/main.yml",
        "kubeadm": "checks.go ContainerRuntimeCheck.Check (needs a CRI runtime)",
    },
    fix=fixes.install_containerd,
    tags=("system",),
)
def test_containerd_installed(conn, facts):
    runtime = _gathered(facts)
    found = runtime.containerd_path if runtime else files.look_path(conn, "containerd")
    assert found, _not_installed(facts)


@check(
    "k8s.runtime.cri",
    "containerd serves the CRI on the CRI socket",
    refs={
        "kubeadm": "checks.go ContainerRuntimeCheck.Check, util/runtime/runtime.go IsRunning",
    },
    fix=fixes.enable_cri,
    params="cri_socket",
    argnames="socket",
    tags=("system",),
)
def test_cri(conn, facts, socket):
    config = _config(conn, facts)
    path = socket_path(socket)
    runtime = _gathered(facts)
    if runtime is not None and path in runtime.sockets:
        gathered = runtime.sockets[path]
        listening = gathered is not None
        read = gathered and (gathered.ok, gathered.stdout, gathered.stderr)
    else:
        listening = conn.read("test -S %s", path, sudo=True).ok
        answer = conn.read("ctr --address %s plugins ls", path, sudo=True) if listening else None
        read = answer and (answer.ok, answer.stdout, answer.stderr)
    problem = cri_problem(config, path, listening, read)
    assert problem is None, problem


def cri_problem(
    config, path: str, listening: bool, answer: tuple[bool, str, str] | None
) -> str | None:
    """What keeps containerd from serving the CRI on path: a disabled_plugins entry, no
    socket, no answer from `ctr plugins ls` (answer: ok, stdout, stderr), or a CRI plugin
    that is missing or did not start. None when it serves."""
    disabled = config.disabled_cri()
    if disabled:
        listed = ", ".join(repr(p) for p in disabled)
        return f"{containerd.CONFIG} turns the CRI plugin off: disabled_plugins lists {listed}"
    if not listening or answer is None:
        return f"no CRI socket at {path}: containerd is not running or listens elsewhere"
    ok, stdout, stderr = answer
    if not ok:
        first_line = (stderr.strip().splitlines() or [""])[0][:200]
        return f"containerd does not answer on {path}: {first_line}"
    status = containerd.plugin_status(stdout, "io.containerd.grpc.v1", "cri")
    if status is None:
        return f"containerd on {path} has no CRI plugin loaded"
    if status != "ok":
        return (
            f"containerd's CRI plugin did not start (status {status}): see journalctl -u containerd"
        )
    return None


@check(
    "k8s.runtime.systemd-cgroup",
    "containerd's runc runtime uses the systemd cgroup driver, as kubelet does",
    refs={
        "kubespray": (
            "roles/container-engine/containerd/defaults/main.yml containerd_use_systemd_cgroup"
        ),
        "kubekey": "cmd/kk/pkg/container/templates/containerd_config.go ContainerdConfig",
    },
    fix=fixes.systemd_cgroup,
    tags=("system",),
)
def test_systemd_cgroup(conn, facts):
    problem = setting_problem(_config(conn, facts), containerd.SYSTEMD_CGROUP, True)
    assert problem is None, problem


@check(
    "k8s.runtime.cgroup-driver",
    "The kubelet's cgroup driver is containerd's (runc's SystemdCgroup)",
    refs={
        "kubelet": "KubeletConfiguration cgroupDriver, default cgroupfs "
        "(pkg/kubelet/apis/config/v1beta1/defaults.go)",
        "kubeadm": "cmd/kubeadm/app/componentconfigs/kubelet.go Default "
        "(cgroupDriver systemd where unset, since v1.22)",
        "kubespray": "roles/kubernetes/node/tasks/facts.yml (kubelet_cgroup_driver follows "
        "containerd_use_systemd_cgroup)",
    },
    fix=fixes.systemd_cgroup,
    tags=("system",),
)
def test_cgroup_driver(conn, facts):
    # A cross-check neither kubeadm nor kube-bench makes: each tool reads one side. Where
    # the kubelet takes its driver from the CRI (KubeletCgroupDriverFromCRI, kubelet 1.31+
    # with containerd 2.0+) its cgroupDriver is ignored; this check still reads it, as the
    # older kubelets and containerds the profile admits need it to agree.
    from hostkit_catalog.checks.test_cis_node import read_kubelet

    # Over the facts gather's dump of the kubelet's files, as the CIS checks read them.
    driver = fixes.driver_of(read_kubelet(conn, facts, fixes.KUBELET_CONFIG))
    if driver.driver is None:
        pytest.skip(f"{driver.where} (kubeadm writes cgroupDriver when it joins)")
    problem = cgroup_driver_problem(driver, _config(conn, facts))
    assert problem is None, problem


def cgroup_driver_problem(driver, config) -> str | None:
    """How the kubelet's cgroup driver and containerd's runc differ; None when they agree
    or the kubelet is not configured."""
    setting = config.setting(containerd.SYSTEMD_CGROUP)
    if driver.driver is None or setting is None:
        return None
    runc = "systemd" if setting.value is True else "cgroupfs"
    if runc == driver.driver:
        return None
    return (
        f"the kubelet uses the {driver.driver} cgroup driver ({driver.where}) and "
        f"containerd's runc the {runc} driver (SystemdCgroup is {setting.value!r}, "
        f"{setting.source}): they must agree"
    )


def setting_problem(config, paths, want) -> str | None:
    """How the setting containerd runs with differs from want, naming its key for the
    file's config version and where the value comes from; None when it matches."""
    setting = config.setting(paths)
    key = ".".join(paths[config.version])
    if setting is None or setting.value is None:
        return f"{key} is not set"
    if setting.value != want or type(setting.value) is not type(want):
        shown = str(want).lower() if isinstance(want, bool) else repr(want)
        return f"{key} is {setting.value!r} ({setting.source}), want {shown}"
    return None


@check(
    "k8s.runtime.sandbox-image",
    "containerd's sandbox (pause) image is the profile's",
    severity="warning",
    refs={
        "kubeadm": "checks.go ImagePullCheck.Check (sandbox image inconsistent with kubeadm's)",
        "kubespray": "roles/container-engine/containerd/tasks/main.yml (config.toml.j2 sandbox)",
        "kubekey": "cmd/kk/pkg/container/templates/containerd_config.go ContainerdConfig",
    },
    fix=fixes.sandbox_image,
    params="sandbox_image",
    argnames="image",
    tags=("system",),
)
def test_sandbox_image(conn, facts, image):
    problem = setting_problem(_config(conn, facts), containerd.SANDBOX_IMAGE, image)
    assert problem is None, problem


@check(
    "k8s.runtime.containerd.service",
    "containerd is running and starts at boot",
    refs={"kubespray": "roles/container-engine/containerd/tasks/main.yml (containerd started)"},
    fix=fixes.start_containerd,
    tags=("system",),
)
def test_containerd_service(conn, facts):
    # Last of the runtime checks: containerd may refuse to start with a config the checks
    # above repair (the CRI both disabled and configured, in containerd 1.6).
    from kit.runner import services

    runtime = _gathered(facts)
    # Without containerd there is no service to ask about, under any init system.
    assert runtime is None or runtime.containerd_path is not None, "containerd is not installed"
    if runtime is not None and runtime.containerd_active is not None:
        active, enabled = runtime.containerd_active, bool(runtime.containerd_enabled)
    else:
        active = services.is_service_active(conn, facts, fixes.SERVICE)
        enabled = services.is_service_enabled(conn, facts, fixes.SERVICE)
    assert active and enabled, "containerd is " + " and ".join(
        [
            "running" if active else "not running",
            "enabled" if enabled else "not enabled at boot",
        ]
    )


# -- kubelet -----------------------------------------------------------------------------


@check(
    "k8s.kubelet.service",
    "kubelet.service exists and is enabled",
    severity="warning",
    refs={"kubeadm": "checks.go ServiceCheck.Check (Service-Kubelet, CheckIfActive false)"},
    fix=fixes.enable_kubelet,
    tags=("system",),
)
def test_kubelet_service(conn, facts):
    # kubeadm's ServiceCheck warns where it finds no init system it knows.
    assert facts.init_system.type == "systemd", (
        f"init system {facts.init_system.type}: kubelet.service cannot be checked"
    )
    runtime = _gathered(facts)
    if runtime is not None and runtime.kubelet_unit is not None:
        load, enabled = runtime.kubelet_unit
    else:
        load, enabled = fixes.kubelet_unit_state(conn)
    assert load == "loaded", "kubelet service does not exist (install kubelet)"
    assert enabled == "enabled", f"kubelet service is not enabled ({enabled or 'unknown'})"


_KUBELET_VERSION = re.compile(r"Kubernetes v?(\d+)\.(\d+)\.(\d+)")


def kubelet_version(output: str) -> tuple[int, int, int] | None:
    """The version `kubelet --version` prints ("Kubernetes v1.35.0"), or None."""
    found = _KUBELET_VERSION.search(output)
    return (int(found[1]), int(found[2]), int(found[3])) if found else None


def kubelet_skew_error(
    kubelet: tuple[int, int, int], kubernetes: tuple[int, int], upper: bool = True
) -> str | None:
    """kubeadm's KubeletVersionCheck with kubeadm at the profile's version: kubelet no older
    than MinimumKubeletVersion (three minors back, constants.go getSkewedKubernetesVersion
    (-3)), and, with upper (a KubernetesVersion given: init only), neither major nor minor
    above the control plane's."""
    major, minor = kubernetes
    shown = ".".join(map(str, kubelet))
    if kubelet < (major, minor - 3, 0):
        return (
            f"kubelet {shown} is lower than kubeadm {major}.{minor} supports "
            f"(at least {major}.{minor - 3}): upgrade kubelet"
        )
    if upper and (kubelet[0] > major or kubelet[1] > minor):
        return (
            f"kubelet {shown} is newer than the control plane ({major}.{minor}): "
            "an unsupported version skew"
        )
    return None


def installed_kubelet(conn, facts) -> tuple[tuple[int, int, int] | None, str]:
    """The installed kubelet's version (`kubelet --version`, as kubeadm's GetKubeletVersion
    runs it), or None with why: "kubelet is not installed" (exit 127) or another answer."""
    runtime = _gathered(facts)
    if runtime is not None and runtime.kubelet_version is not None:
        code, stdout = runtime.kubelet_version
    else:
        answer = conn.read("kubelet --version")
        code, stdout = answer.rc, answer.stdout
    found = kubelet_version(stdout) if code == 0 else None
    if found is not None:
        return found, ""
    if code == 127:
        return None, "kubelet is not installed"
    if code == 124:
        return None, "kubelet --version did not answer within 10s"
    return None, stdout.strip()[:100]


def _kubelet_skew(conn, facts, version: str, upper: bool) -> None:
    from hostkit_catalog.checks.test_system import minor

    found, why = installed_kubelet(conn, facts)
    assert found is not None, "couldn't get kubelet version: " + why
    error = kubelet_skew_error(found, minor(version), upper)
    assert error is None, error


@check(
    "k8s.kubelet.version",
    "kubelet is no older than kubeadm supports for the profile's Kubernetes",
    refs={
        "kubeadm": "checks.go KubeletVersionCheck.Check, constants.go MinimumKubeletVersion; "
        "addCommonChecks (JoinNodeChecks passes no Kubernetes version: no upper bound)"
    },
    params="kubernetes_version",
    argnames="version",
    tags=("system",),
)
def test_kubelet_version(conn, facts, version):
    _kubelet_skew(conn, facts, version, upper=False)


@check(
    "k8s.kubelet-version.init",
    "kubelet is within the skew kubeadm init allows: not older than it supports, not newer "
    "than the control plane",
    refs={
        "kubeadm": "checks.go KubeletVersionCheck.Check with InitNodeChecks' "
        "cfg.KubernetesVersion (init and control-plane join only)"
    },
    params="kubernetes_version",
    argnames="version",
    tags=("system",),
)
def test_kubelet_version_init(conn, facts, version):
    _kubelet_skew(conn, facts, version, upper=True)
