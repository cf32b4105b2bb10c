"""cgroup controllers the kubelet needs, now and after the next boot (kubeadm preflight)."""

import pytest

from hostkit_catalog.remediations import boot as boot_fixes
from kit.catalog.check import check
from kit.edits import grub
from kit.runner import kernel

# Names in cgroup v2's terms; v1 calls the io controller blkio, and cpuacct is v1's only
# (on v2 the cpu controller accounts).
_V1_NAMES = {"io": "blkio"}
_V1_ONLY = {"cpuacct"}


def controller_verdict(state: kernel.CgroupState, controller: str) -> None:
    """system-validators cgroup_validator_linux.go CgroupsValidator.Validate's verdict on
    one controller, and whether the next boot's command line keeps it (or brings it).

    The validator finds the v2 freezer by making a child cgroup and looking for its
    cgroup.freeze; a check only reads, so it looks for that file in the children that
    exist (systemd makes init.scope and system.slice on every systemd host).
    """
    assert state.version is not None, (
        "the cgroup version is unknown (/sys/fs/cgroup is neither cgroup2fs nor tmpfs)"
    )
    if state.version == 2 and controller in _V1_ONLY:
        pytest.skip(f"{controller} is a cgroup v1 controller; this host has v2")
    name = _V1_NAMES.get(controller, controller) if state.version == 1 else controller
    live = name in state.controllers
    where = state.next_boot_source
    boot = list(state.next_boot) if state.next_boot is not None else None
    disabled = grub.disabling(boot, name) if boot is not None else None
    if live:
        assert disabled is None, (
            f"{name} controller is available now, but the next boot's command line "
            f"disables it ({disabled}, {where})"
        )
        return
    have = " ".join(sorted(state.controllers)) or "none"
    message = f"{name} controller is missing now (cgroup v{state.version}, {state.source}: {have})"
    booted = grub.disabling(list(state.cmdline), name)
    if booted:
        message += f", the running kernel was booted with {booted}"
    if boot is None:
        message += "; the next boot's command line is unknown (no grubby, no grub.cfg)"
    elif disabled:
        message += f"; the next boot's command line disables it too ({disabled}, {where})"
    elif grub.enabling(boot, name):
        message += (
            f"; the next boot's command line turns it on ({grub.enabling(boot, name)}, "
            f"{where}): reboot pending"
        )
    else:
        message += f"; the next boot's command line does not turn it on ({where})"
    raise AssertionError(message)


def _controller_check(check_id: str, title: str, severity: str, params: str, refs: str):
    @check(
        check_id,
        title,
        severity=severity,
        refs={
            "kubeadm": f"system-validators cgroup_validator_linux.go CgroupsValidator.Validate; "
            f"types_unix.go DefaultSysSpec.{refs}",
        },
        fix=boot_fixes.enable_cgroup_controller,
        params=params,
        argnames="controller",
        tags=("system",),
    )
    def test(conn, facts, controller):
        controller_verdict(kernel.cgroup_state_of(conn, facts), controller)

    return test


test_cgroup_controller = _controller_check(
    "k8s.cgroup.controllers",
    "cgroup controller kubeadm requires is available, now and after the next boot",
    "error",
    "cgroup_controllers",
    "Cgroups/CgroupsV2",
)
test_cgroup_controller_optional = _controller_check(
    "k8s.cgroup.controllers.optional",
    "cgroup controller kubeadm would like (hugetlb, io) is available, now and after reboot",
    "warning",
    "cgroup_controllers_optional",
    "CgroupsOptional/CgroupsV2Optional",
)
