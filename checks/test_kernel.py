"""Swap, kernel modules and sysctls, now and at the next boot (kubeadm preflight)."""

import posixpath

from kit.check import check
from kit.edits import fstab
from kit.edits.modules import same_module
from kit.runner import kernel
from remediations import kernel as fixes

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
        "kubespray": "roles/kubernetes/node/tasks/main.yml: modprobe br_netfilter, modules-load.d"
    },
    fix=fixes.load_module,
    params="modules",
    argnames="module",
    tags=("kernel",),
)
def test_module_loaded(facts, module):
    name = module.replace("-", "_")
    if facts.modules_builtin is not None and name in facts.modules_builtin:
        return
    loaded = any(same_module(m, module) for m in facts.modules)
    at_boot = name in kernel.modules_at_boot(facts.boot_files.items())
    assert loaded, f"module {module} is not loaded now"
    assert at_boot, f"module {module} is loaded now but not configured to load at boot"


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
