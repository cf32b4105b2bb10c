"""Swap, kernel modules and sysctls, now and at the next boot (kubeadm preflight)."""

import contextlib
import posixpath
import re

import pytest

from hostkit_catalog.remediations import kernel as fixes
from hostkit_catalog.remediations import sysctl as fixes_sysctl
from kit.catalog.check import check
from kit.edits import fstab
from kit.edits.modules import same_module
from kit.errors import KitError, KitValueError
from kit.runner import kernel

# Every check here answers from facts: the live state and the files the next boot
# reads come in the one round trip that gathers them.

ZRAM_CONFIGS = (
    "/etc/systemd/zram-generator.conf",
    "/run/systemd/zram-generator.conf",
    "/usr/local/lib/systemd/zram-generator.conf",
    "/usr/lib/systemd/zram-generator.conf",
)


def fstab_swap_at_boot(text: str) -> list[fstab.Entry]:
    """fstab's swap lines that swapon -a and systemd-fstab-generator turn on: not noauto."""
    return [e for e in fstab.swap_entries(text) if "noauto" not in e.options]


def zram_swap_at_boot(boot_files) -> list[str]:
    """zram-generator configuration that makes a zram swap device at boot.

    A name in /etc hides the same name in /run and /usr (zram-generator.conf(5)), so an
    empty /etc/systemd/zram-generator.conf turns a vendor default off, as kubespray's
    swapoff task does on Fedora.
    """
    main = next((p for p in ZRAM_CONFIGS if p in boot_files), None)
    dropins: dict[str, str] = {}
    for conf in ZRAM_CONFIGS:
        for path in sorted(p for p in boot_files if p.startswith(conf + ".d/")):
            dropins.setdefault(posixpath.basename(path), path)
    sources = [p for p in (main, *dropins.values()) if p is not None]
    return [
        p
        for p in sources
        if any(line.strip().startswith("[zram") for line in boot_files[p].splitlines())
    ]


@check(
    "k8s.swap.off",
    "Swap is off now and stays off at boot",
    severity="warning",
    refs={
        "kubeadm": "checks.go SwapCheck.Check",
        "kubespray": "roles/kubernetes/preinstall/tasks/0010-swapoff.yml",
    },
    fix=fixes.disable_swap,
    tags=("kernel",),
)
def test_swap_off(facts):
    assert not facts.swaps, f"swap is active now: {', '.join(facts.swaps)}"
    at_boot = fstab_swap_at_boot(facts.boot_files.get("/etc/fstab", ""))
    assert not at_boot, f"/etc/fstab turns swap on at boot: {', '.join(e.spec for e in at_boot)}"
    if facts.init_system.type != "systemd" or facts.unit_states.get("swap.target") == "masked":
        return
    # A masked swap.target pulls in none of the swap units below.
    units = [posixpath.basename(u) for u in facts.swap_units]
    assert not units, "swap units come back at boot (swap.target is not masked): " + ", ".join(
        units
    )
    zram = zram_swap_at_boot(facts.boot_files) if facts.zram_generator else []
    assert not zram, f"zram-generator makes swap at boot ({', '.join(zram)})"


@check(
    "k8s.kernel.module",
    "Kernel module is loaded now and at boot, or built into the kernel",
    refs={
        "kubespray": "roles/kubernetes/node/tasks/main.yml: modprobe br_netfilter, modules-load.d",
        "systemd": "src/shared/module-util.c module_load_and_warn: KMOD_PROBE_APPLY_BLACKLIST, "
        "install commands run",
    },
    fix=fixes.load_module,
    params="modules",
    argnames="module",
    tags=("kernel",),
)
def test_module_loaded(facts, module):
    """Loaded now (/proc/modules), and at the next boot: listed in modules-load.d (or
    /etc/modules) and not stopped by a modprobe.d line systemd-modules-load obeys (a
    `blacklist NAME`, which `modprobe NAME` by hand ignores, or an `install NAME /bin/false`).
    A module built into the kernel passes: modules.builtin says so, or where that file is
    missing, CONFIG_X=y, /sys/module/NAME or the module's own sysctl keys with a readable
    /proc/modules that does not list it."""
    name = module.replace("-", "_")
    if facts.modules_builtin is not None and name in facts.modules_builtin:
        return
    loaded = any(same_module(m, module) for m in facts.modules)
    gathered = facts.modules_boot
    if facts.modules_builtin is None and gathered is not None:
        evidence = kernel.builtin_evidence(
            name,
            loaded=loaded,
            proc_modules_readable=gathered.proc_modules_readable,
            sys_modules=gathered.sys_modules,
            kconfig=kernel.parse_kernel_config(gathered.kconfig),
            sysctl_keys=facts.sysctls,
        )
        if evidence is not None:
            return
    at_boot = name in kernel.modules_at_boot(facts.boot_files.items())
    blocks = kernel.boot_blocks(gathered.modprobe_files.items(), name) if gathered else []
    blocked = (
        "; ".join(f"{path} has {line.strip()!r}" for path, line in blocks)
        + " (systemd-modules-load obeys it; modprobe by hand does not)"
    )
    # Named with every verdict: a module loaded by hand still misses the next boot while a
    # line blocks it.
    also = f", and the next boot will not load it: {blocked}" if blocks else ""
    assert loaded, f"module {module} is not loaded now{also}"
    assert at_boot, f"module {module} is loaded now but not configured to load at boot{also}"
    assert not blocks, (
        f"module {module} is loaded now but will not be loaded at the next boot: {blocked}"
    )


@check(
    "k8s.sysctl",
    "Kernel parameter has the profile's value (or at least its floor), live and at boot",
    refs={
        "kubeadm": "checks_linux.go addIPv4Checks: FileContent--proc-sys-net-ipv4-ip_forward",
        "kubespray": "roles/kubernetes/node/tasks/main.yml: Enable bridge-nf-call tables",
        "systemd": "sysctl.d(5): boot order",
    },
    fix=fixes.set_sysctl,
    params="sysctls",
    argnames="key,value",
    tags=("kernel",),
)
def test_sysctl(facts, key, value):
    want = kernel.describe_wanted(value)
    live = facts.sysctls.get(key)
    assert live is not None, f"{key} does not exist on this kernel (is its module loaded?)"
    assert kernel.satisfies(live, value), f"{key} is {live} now, want {want}"
    at_boot, source = kernel.sysctl_at_boot(facts.boot_files.items(), key, links=facts.boot_links)
    assert kernel.satisfies(at_boot, value), f"{key} is {live} now but boot sets " + (
        f"{at_boot} ({source})" if at_boot is not None else "nothing"
    )


# kubeadm's addIPv4Checks read /proc/sys/net/bridge/bridge-nf-call-iptables until v1.29;
# v1.30 removed the check (kubernetes/kubernetes#123464), so from there it is no kubeadm
# error (kubespray still sets it: the installer group, a warning).
BRIDGE_NF_CALL = "net.bridge.bridge-nf-call-iptables"
BRIDGE_NF_CALL_UNTIL = (1, 29)


@check(
    "k8s.sysctl.bridge-nf-call",
    "Bridged traffic goes through iptables, where kubeadm checks it (Kubernetes before 1.30)",
    refs={
        "kubeadm": "checks_linux.go addIPv4Checks: FileContent--proc-sys-net-bridge-bridge-nf-"
        "call-iptables, v1.29 and before (removed by kubernetes/kubernetes#123464)",
        "systemd": "sysctl.d(5): boot order",
    },
    fix=fixes_sysctl.set_bridge_nf_call,
    params="kubernetes_version",
    argnames="version",
    tags=("kernel",),
)
def test_sysctl_bridge_nf_call(conn, facts, version):
    from hostkit_catalog.checks.test_system import minor

    if minor(version) > BRIDGE_NF_CALL_UNTIL:
        pytest.skip(
            f"kubeadm does not check {BRIDGE_NF_CALL} from 1.30 (profile: {version}); "
            "kubespray's setting is k8s.sysctl.installer"
        )
    sysctl_verdict(facts, BRIDGE_NF_CALL, "1", conn)


# -- sysctl groups a profile selects apart from the node's own ---------------------------


def sysctl_verdict(facts, key: str, value: str, conn=None) -> None:
    """test_sysctl's verdict, where a value may also be "includes R" for a list of ranges.

    The facts' `grep -r . /proc/sys` leaves out a key whose value is empty, as
    ip_local_reserved_ports is by default: the facts list such keys apart, and facts made
    without them have the key read on its own through conn.
    """
    want = kernel.describe_meets(value)
    live = facts.sysctls.get(key)
    if live is None and facts.kernelprep is not None:
        live = "" if key in facts.kernelprep.empty_sysctls else None
    elif live is None and conn is not None:
        with contextlib.suppress(KitError):
            live = kernel.get_sysctl(conn, key)
    assert live is not None, f"{key} does not exist on this kernel (is its module loaded?)"
    assert kernel.meets(live, value), f"{key} is {live or '(empty)'} now, want {want}"
    at_boot, source = kernel.sysctl_at_boot(facts.boot_files.items(), key, links=facts.boot_links)
    assert kernel.meets(at_boot, value), f"{key} is {live} now but boot sets " + (
        f"{at_boot} ({source})" if at_boot is not None else "nothing"
    )


def _sysctl_group(
    check_id: str,
    title: str,
    severity: str,
    params: str,
    refs: dict[str, str],
    fix=fixes_sysctl.set_sysctl_including,
):
    @check(
        check_id,
        title,
        severity=severity,
        refs={**refs, "systemd": "sysctl.d(5): boot order"},
        fix=fix,
        params=params,
        argnames="key,value",
        tags=("kernel",),
    )
    def test(conn, facts, key, value):
        sysctl_verdict(facts, key, value, conn)

    return test


test_sysctl_dual_stack = _sysctl_group(
    "k8s.sysctl.dual-stack",
    "IPv6 forwarding for a dual-stack or IPv6 node, live and at boot",
    "error",
    "sysctls_dual_stack",
    {
        "kubeadm": "checks_linux.go addIPv6Checks: FileContent--proc-sys-net-ipv6-conf-default-"
        "forwarding",
        "kubespray": "roles/kubernetes/preinstall/tasks/0080-system-configurations.yml: "
        "Enable ipv6 forwarding (enable_dual_stack_networks)",
    },
)
test_sysctl_kernel_defaults = _sysctl_group(
    "k8s.sysctl.kernel-defaults",
    "Kernel parameters kubelet's protectKernelDefaults wants, live and at boot",
    "warning",
    "sysctls_kernel_defaults",
    {
        "kubelet": "pkg/kubelet/cm/container_manager_linux.go setupKernelTunables (exact values)",
        "kubespray": "roles/kubernetes/preinstall/tasks/0080-system-configurations.yml: "
        "Ensure kubelet expected parameters are set (kubelet_protect_kernel_defaults)",
    },
    fix=fixes_sysctl.set_kernel_default,
)
test_sysctl_installer = _sysctl_group(
    "k8s.sysctl.installer",
    "Kernel parameters the installers set on a node (inotify, arptables, NodePort reservation)",
    "warning",
    "sysctls_installer",
    {
        "kubekey": "pkg/bootstrap/os/templates/init_script.go InitOsScriptTmpl",
        "kubespray": "roles/kubernetes/node/tasks/main.yml: Enable bridge-nf-call tables",
    },
)


# -- kernel release and build configuration: kubeadm's SystemVerification ----------------
# system-validators validators/kernel_validator.go KernelValidator.Validate: a release
# that matches none of DefaultSysSpec's KernelSpec.Versions is a warning (an error before
# system-validators 1.10, Kubernetes 1.34); a Required option missing or =n is an error,
# which kubeadm reports as [ERROR SystemVerification]; an Optional one is only printed.


@check(
    "k8s.kernel.version",
    "Kernel release is one kubeadm's system validator supports",
    severity="warning",
    refs={
        "kubeadm": "system-validators kernel_validator.go validateKernelVersion, "
        "types_unix.go DefaultSysSpec.KernelSpec.Versions"
    },
    params="kernel_release",
    argnames="pattern",
    tags=("kernel",),
)
def test_kernel_version(facts, pattern):
    release = facts.kernel
    assert release != "unknown", "the kernel release is unknown (no kernel.osrelease)"
    # Go's MatchString finds the pattern anywhere; the spec's patterns anchor themselves.
    assert re.search(pattern, release), (
        f"kernel release {release} is unsupported by kubeadm's validator "
        "(supported: 5.4, 5.10, 5.15 and 6.x or later)"
    )


def _config_names(option: str) -> list[str]:
    """An option and its aliases, `NETFILTER_XT_TARGET_REDIRECT|IP_NF_TARGET_REDIRECT`."""
    return [n.strip().removeprefix("CONFIG_") for n in option.split("|") if n.strip()]


def config_verdict(path: str | None, values, option: str, release: str) -> None:
    """validateCachedKernelConfig's verdict on one option: the first of its names that the
    config sets decides; y and m (built in or a module) pass, n and absence fail."""
    names = _config_names(option)
    where = ", ".join(kernel.kernel_config_paths(release))
    assert path is not None, (
        f"no kernel config in {where} (kubeadm would try `modprobe configs` for "
        "/proc/config.gz, then fail: failed to parse kernel config)"
    )
    name = next((n for n in names if f"CONFIG_{n}" in values), None)
    # Not found, the validator names the last alias, where its loop ended.
    assert name is not None, f"CONFIG_{names[-1]} not set ({path})"
    value = values[f"CONFIG_{name}"]
    assert value in ("y", "m"), f"CONFIG_{name} disabled ({path}: CONFIG_{name}={value})"


_SCOPES = {"all": None, "cgroup-v1": 1, "cgroup-v2": 2}


@check(
    "k8s.kernel.config.required",
    "Kernel built with the options kubeadm's system validator requires (=y or =m)",
    refs={
        "kubeadm": "system-validators kernel_validator.go validateCachedKernelConfig, "
        "types_unix.go DefaultSysSpec.KernelSpec.Required/RequiredCgroupsV1/RequiredCgroupsV2"
    },
    params="kernel_config_required",
    argnames="option,scope",
    tags=("kernel",),
)
def test_kernel_config_required(conn, facts, option, scope):
    """Where no config file exists, the validator loads the `configs` module to get
    /proc/config.gz and unloads it after; a check only reads, so it fails there and says
    so. The cgroup version is the facts' (/sys/fs/cgroup's filesystem type), where the
    validator also counts a tmpfs without a memory directory as v2."""
    if scope not in _SCOPES:
        raise KitValueError(f"kernel_config_required: scope of {option} must be one of {_SCOPES}")
    wanted = _SCOPES[scope]
    if wanted is not None:
        assert facts.cgroup_version is not None, "the cgroup version is unknown"
        if facts.cgroup_version != wanted:
            pytest.skip(
                f"{option} is required on cgroup v{wanted}; this host has v{facts.cgroup_version}"
            )
    path, values = kernel.kernel_config_of(conn, facts, _config_names(option))
    config_verdict(path, values, option, facts.kernel)


@check(
    "k8s.kernel.config.optional",
    "Kernel built with the options kubeadm's system validator lists as optional",
    severity="warning",
    refs={
        "kubeadm": "system-validators kernel_validator.go validateCachedKernelConfig "
        "(optional: reported, never a warning), types_unix.go KernelSpec.Optional"
    },
    params="kernel_config_optional",
    argnames="option",
    tags=("kernel",),
)
def test_kernel_config_optional(conn, facts, option):
    """kubeadm prints a missing optional option but neither warns nor fails: select this
    check where the feature matters (overlayfs, CPU quota, seccomp)."""
    path, values = kernel.kernel_config_of(conn, facts, _config_names(option))
    config_verdict(path, values, option, facts.kernel)
