"""What the golden node has for each parameter of the catalog, read as the checks read it.

A reader takes the golden node and the parent profile, and returns a Pinned: the value to
write under the parameter, or None where it keeps the parent's (with the reason), and one
line for the profile's comment and the command's output. The readers call the catalog's
own reads (hostkit_catalog.checks), so a value captured is the value the check will see.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kit.catalog.profile import Profile
from kit.catalog.shipped import importable
from kit.connection import Connection
from kit.errors import KitError
from kit.facts import Facts


@dataclass(frozen=True)
class Golden:
    conn: Connection
    facts: Facts


@dataclass(frozen=True)
class Pinned:
    value: Any  # the parameter's value on the golden node; None: the parent's is kept
    note: str  # where the value comes from, or why it was not captured
    # What to know about the value: the parent's values it drops and why, or what the
    # golden node fails itself.
    remarks: list[str] = field(default_factory=list)


Reader = Callable[[Golden, Profile, str], Pinned]


# Each reader imports the catalog's modules it reads through on first use, from wherever
# the catalog is (a checkout's, or the wheel's hostkit_catalog).
importable()


def sysctls(golden: Golden, parent: Profile, key: str) -> Pinned:
    """The live value of each key the parent names; a key the kernel lacks is left out."""
    if not parent.params.get(key):
        return Pinned(None, f"the parent sets no keys of {key}")
    from kit.runner import kernel

    facts = golden.facts
    found: dict[str, str] = {}
    remarks = []
    for name, _ in parent.values(key):
        live = facts.sysctls.get(name)
        if live is None:
            remarks.append(f"left out {name}: not on the golden node's kernel")
            continue
        found[name] = live
        boot, _ = kernel.sysctl_at_boot(facts.boot_files.items(), name, links=facts.boot_links)
        if boot != live:
            said = f"boot sets {boot}" if boot is not None else "nothing sets it at boot"
            remarks.append(f"{name} is {live} live but {said}: the golden node fails it too")
    return Pinned(found, "live values (k8s.sysctl* read them at boot too)", remarks)


def modules(golden: Golden, parent: Profile, key: str) -> Pinned:
    """The parent's modules and those loaded on the golden node that k8s.kernel.module
    passes there (loaded and loaded at boot, or built in)."""
    from hostkit_catalog.checks import test_kernel

    wanted = [str(v[0]) for v in parent.values(key)] if parent.params.get(key) else []
    candidates = list(dict.fromkeys([*wanted, *sorted(golden.facts.modules)]))
    found, remarks = [], []
    for name in candidates:
        try:
            test_kernel.test_module_loaded(golden.facts, name)
        except AssertionError as exc:
            if name in wanted:
                remarks.append(f"left out {name}: {exc}")
            continue
        found.append(name)
    if not found:
        return Pinned(None, "no module passes k8s.kernel.module on the golden node", remarks)
    return Pinned(found, "modules loaded now and at boot, or built in", remarks)


def ports_owned(golden: Golden, parent: Profile, key: str) -> Pinned:
    """Every TCP port listening on the golden node with the unit or process holding it."""
    from hostkit_catalog.checks import test_network
    from hostkit_catalog.remediations.network import port_holders

    facts = golden.facts
    found: dict[int, str] = {}
    remarks = []
    for port in sorted({s.port for s in facts.listening if s.proto == "tcp"}):
        if facts.ports is not None:
            holders = test_network.gathered_holders(facts.ports, port)
        else:
            holders = port_holders(golden.conn, port)
        if not holders:
            remarks.append(f"left out port {port}: its process cannot be read")
            continue
        first = holders[0]
        found[port] = first.unit.removesuffix(".service") if first.unit else first.name
    if not found:
        return Pinned(None, "nothing listens on TCP on the golden node", remarks)
    return Pinned(found, "TCP listeners and their unit (or process)", remarks)


def kernel_release(golden: Golden, parent: Profile, key: str) -> Pinned:
    release = golden.facts.kernel
    return Pinned([f"^{re.escape(release)}$"], f"exactly the golden node's release, {release}")


def kubernetes_version(golden: Golden, parent: Profile, key: str) -> Pinned:
    from hostkit_catalog.checks import test_runtime

    found, why = test_runtime.installed_kubelet(golden.conn, golden.facts)
    if found is None:
        return Pinned(None, f"no kubelet version on the golden node: {why}")
    shown = ".".join(map(str, found))
    return Pinned(
        [f"{found[0]}.{found[1]}"],
        f"the kubelet's minor (kubelet {shown}); k8s.kubelet.version judges kubeadm's skew "
        "from it (three minors back), not the exact version",
    )


def sandbox_image(golden: Golden, parent: Profile, key: str) -> Pinned:
    from hostkit_catalog.checks import test_runtime
    from kit.edits import containerd

    config = test_runtime.read_config(golden.conn, golden.facts)
    setting = config.setting(containerd.SANDBOX_IMAGE) if config.version else None
    if setting is None or setting.value is None:
        return Pinned(None, "containerd's sandbox image is not set on the golden node")
    return Pinned([setting.value], f"containerd's sandbox image ({setting.source})")


def cri_socket(golden: Golden, parent: Profile, key: str) -> Pinned:
    kubelet = _kubelet(golden, parent)
    flag = kubelet.flags.get("container-runtime-endpoint") if kubelet else None
    value = flag.value if flag else None
    if not value and kubelet is not None:
        value = kubelet.config_data.get("containerRuntimeEndpoint")
    if not value:
        return Pinned(None, "the golden node's kubelet names no container runtime endpoint")
    return Pinned([str(value)], "the kubelet's container runtime endpoint")


def kubelet_pod_pids_limit(golden: Golden, parent: Profile, key: str) -> Pinned:
    from hostkit_catalog.remediations import kubelet as kfix

    kubelet = _kubelet(golden, parent)
    if kubelet is None:
        return Pinned(None, "the golden node's kubelet configuration cannot be read")
    found = kfix.SETTINGS["pod-max-pids"].find(kubelet)
    if found.value is None:
        return Pinned(None, f"the golden node's kubelet has no pod PIDs limit: {found.where}")
    return Pinned(
        [[kubelet.config_path, str(found.value)]],
        f"podPidsLimit ({found.where}); the check passes any limit set, --fix sets this one",
    )


def _kubelet(golden: Golden, parent: Profile) -> Any:
    """The golden node's kubelet, read as the CIS checks read it, or None."""
    from hostkit_catalog.checks import test_cis_node

    config = "/var/lib/kubelet/config.yaml"
    for key in ("kubelet_pod_pids_limit", "kubelet_config"):
        rows = parent.values(key) if parent.params.get(key) else []
        if rows:
            config = str(rows[0][0])
            break
    try:
        return test_cis_node.read_kubelet(golden.conn, golden.facts, config)
    except (KitError, AssertionError, OSError):
        return None


READERS: dict[str, Reader] = {
    "sysctls": sysctls,
    "sysctls_kernel_defaults": sysctls,
    "sysctls_installer": sysctls,
    "sysctls_dual_stack": sysctls,
    "modules": modules,
    "ports_owned": ports_owned,
    "kernel_release": kernel_release,
    "kubernetes_version": kubernetes_version,
    "sandbox_image": sandbox_image,
    "cri_socket": cri_socket,
    "kubelet_pod_pids_limit": kubelet_pod_pids_limit,
}

# Why the catalog's other parameters keep the parent's values.
_PATHS = "paths of files the CIS checks judge against the benchmark, not against a node"
NOT_CAPTURED: Mapping[str, str] = {
    "cgroup_controllers": "what the kubelet requires of any node",
    "cgroup_controllers_optional": "what the kubelet can use on any node",
    "disk_free": "a threshold, not a state",
    "min_cpus": "a threshold, not a state",
    "min_memory_mib": "a threshold, not a state",
    "executables_required": "what kubeadm requires of any node",
    "executables_recommended": "what kubeadm recommends for any node",
    "kernel_config_required": "the kernel build options kubeadm requires",
    "kernel_config_optional": "the kernel build options kubeadm prints",
    "files_absent": "the state before kubeadm joins a node, not of a joined one",
    "dirs_empty": "the state before kubeadm joins a node, not of a joined one",
    "ports_free": "the state before kubeadm joins a node (ports_owned pins the listeners)",
    "kubelet_config": _PATHS,
    "kubelet_client_ca": _PATHS,
    "kubelet_kubeconfig": _PATHS,
    "kubelet_unit": _PATHS,
    "proxy_kubeconfig": _PATHS,
    "no_proxy_covers": "the site's proxy policy",
    "networkmanager_unmanaged": "the CNI's interfaces, a policy",
}
# What a user may expect pinned that no check of the catalog reads.
UNREAD = ("containerd's package version: no check reads it (kubernetes_version pins the kubelet)",)
