"""Swap, kernel modules and sysctls, now and at the next boot (kubeadm preflight)."""

from kit.check import check
from kit.edits import fstab
from kit.edits.modules import same_module
from kit.runner import kernel
from remediations import kernel as fixes

# Every check here answers from facts: the live state and the files the next boot
# reads come in the one round trip that gathers them.


@check(
    "k8s.swap.off",
    "Swap is off now and stays off at boot",
    severity="warning",
    refs={"kubeadm": "Swap"},
    fix=fixes.disable_swap,
    tags=("kernel",),
)
def test_swap_off(facts):
    assert not facts.swaps, f"swap is active now: {', '.join(facts.swaps)}"
    at_boot = fstab.swap_entries(facts.boot_files.get("/etc/fstab", ""))
    assert not at_boot, f"/etc/fstab turns swap on at boot: {', '.join(e.spec for e in at_boot)}"


@check(
    "k8s.kernel.module",
    "Kernel module is loaded now and at boot",
    refs={"kubeadm": "SystemVerification"},
    fix=fixes.load_module,
    params="modules",
    argnames="module",
    tags=("kernel",),
)
def test_module_loaded(facts, module):
    loaded = any(same_module(m, module) for m in facts.modules)
    at_boot = module.replace("-", "_") in kernel.modules_at_boot(facts.boot_files.items())
    assert loaded, f"module {module} is not loaded now"
    assert at_boot, f"module {module} is loaded now but not configured to load at boot"


@check(
    "k8s.sysctl",
    "Kernel parameter has the profile's value, live and at boot",
    refs={"kubeadm": "FileContent--proc-sys-net-ipv4-ip_forward"},
    fix=fixes.set_sysctl,
    params="sysctls",
    argnames="key,value",
    tags=("kernel",),
)
def test_sysctl(facts, key, value):
    live = facts.sysctls.get(key)
    assert live is not None, f"{key} does not exist on this kernel (is its module loaded?)"
    assert live == value, f"{key} is {live} now, want {value}"
    at_boot, source = kernel.sysctl_at_boot(facts.boot_files.items(), key)
    assert at_boot == value, f"{key} is {value} now but boot sets " + (
        f"{at_boot} ({source})" if at_boot is not None else "nothing"
    )
