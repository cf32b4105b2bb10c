"""Executables, time, cgroups and resources a node needs (kubeadm preflight)."""

import re

import pytest

from hostkit_catalog.remediations import boot as boot_fixes
from hostkit_catalog.remediations import packages
from hostkit_catalog.remediations import time as time_fixes
from kit.catalog.check import check
from kit.edits import grub
from kit.errors import KitValueError
from kit.runner import files, kernel

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.\d+)?(?:[-+].*)?$")


def minor(version: str) -> tuple[int, int]:
    """(major, minor) of a Kubernetes version such as "1.35", "v1.34.2" or "1.36.0-rc.1"."""
    found = _VERSION.match(str(version).strip())
    if found is None:
        raise KitValueError(f"invalid Kubernetes version {version!r} (want e.g. 1.35)")
    return int(found.group(1)), int(found.group(2))


def _find(conn, facts, executable: str) -> str | None:
    # Facts answer for the executables the gather script asks about; others cost a lookup.
    if executable in facts.executables:
        return facts.executables[executable]
    return files.look_path(conn, executable)


def _missing(executable: str, facts) -> str:
    package = packages.package_for(executable, facts)
    return f"{executable} not found" + (f" (package {package})" if package else "")


def _executable_check(check_id: str, title: str, severity: str, params: str):
    @check(
        check_id,
        title,
        severity=severity,
        refs={"kubeadm": "checks_linux.go addExecChecks: InPathCheck (FileExisting-<name>)"},
        fix=packages.install_for_executable,
        params=params,
        argnames="executable",
        tags=("system",),
    )
    def test(conn, facts, executable):
        assert _find(conn, facts, executable), _missing(executable, facts)

    return test


test_executable_required = _executable_check(
    "k8s.executable.required",
    "Executable kubeadm requires is on the PATH",
    "error",
    "executables_required",
)
test_executable_recommended = _executable_check(
    "k8s.executable.recommended",
    "Executable kubeadm recommends is on the PATH",
    "warning",
    "executables_recommended",
)


@check(
    "k8s.executable.conntrack",
    "conntrack is on the PATH where kubeadm requires it (Kubernetes before 1.32)",
    refs={"kubeadm": "checks_linux.go addExecChecks: InPathCheck conntrack, mandatory < 1.32"},
    fix=packages.install_conntrack,
    params="kubernetes_version",
    argnames="version",
    tags=("system",),
)
def test_executable_conntrack(conn, facts, version):
    if minor(version) >= (1, 32):
        pytest.skip(f"kube-proxy needs no conntrack executable from 1.32 (profile: {version})")
    assert _find(conn, facts, "conntrack"), _missing("conntrack", facts)


@check(
    "k8s.time.synchronized",
    "Clock is synchronised by chrony, systemd-timesyncd or ntpd",
    severity="warning",
    refs={"kubespray": "roles/kubernetes/preinstall/tasks/0081-ntp-configurations.yml"},
    fix=time_fixes.sync_time,
    tags=("system",),
)
def test_time_synchronized(facts):
    sync = facts.time_sync
    assert sync.service, "no time synchronisation service (chrony, systemd-timesyncd, ntpd) runs"
    synced = sync.synchronized
    if synced is None and sync.chrony_leap is not None:
        synced = sync.chrony_leap == "Normal"
    if synced is None and sync.service == "systemd-timesyncd":
        # Without D-Bus timedatectl cannot answer; timesyncd's own flag file can.
        synced = sync.timesyncd_flag
    assert synced is not None, (
        f"{sync.service} runs; whether the clock is synchronised is unknown "
        "(no timedatectl, and chrony does not answer)"
    )
    assert synced, f"{sync.service} runs but the clock is not synchronised"


def v2_verdict(state: kernel.CgroupState, suffix: str = "") -> None:
    """system-validators CgroupsValidator.Validate's cgroup v1 verdict, and whether the
    next boot's command line keeps the hierarchy (or brings v2): systemd boots v1 when
    the last systemd.unified_cgroup_hierarchy is false, or by default where it was built
    to (a v1 boot with no such argument)."""
    assert state.version is not None, (
        "the cgroup version is unknown (/sys/fs/cgroup is neither cgroup2fs nor tmpfs)"
    )
    where = state.next_boot_source
    boot = list(state.next_boot) if state.next_boot is not None else None
    forced = grub.forcing_v1(boot) if boot is not None else None
    if state.version == 2:
        assert forced is None, (
            f"cgroup v2 now, but the next boot's command line goes back to v1 ({forced}, {where})"
        )
        return
    message = "cgroup v1: v1 support is in maintenance mode, migrate to v2" + suffix
    booted = grub.forcing_v1(list(state.cmdline))
    message += f"; the running kernel was booted with {booted}" if booted else ""
    if boot is None:
        message += "; the next boot's command line is unknown (no grubby, no grub.cfg)"
    elif forced:
        message += f"; the next boot's command line keeps v1 too ({forced}, {where})"
    elif grub.unified(boot) or (booted and grub.unified(boot) is None):
        message += f"; the next boot's command line asks for v2 ({where}): reboot pending"
    else:
        message += f"; the next boot's command line does not ask for v2 ({where})"
    raise AssertionError(message)


def judged_version(conn, facts, version: str) -> tuple[tuple[int, int], str]:
    """The Kubernetes version kubeadm judges cgroup v1 by, and what it comes from.

    system-validators v1.12.1's CgroupsValidator takes a KubeletVersion
    (kubernetes/kubernetes#134744): kubeadm passes the installed kubelet's version, and on
    `kubeadm upgrade` its minor + 1, the version the kubelet is about to get. A profile
    newer than the installed kubelet is such an upgrade (one minor at a time, as kubeadm
    upgrades); with no kubelet installed the profile's version decides.
    """
    from hostkit_catalog.checks.test_runtime import installed_kubelet

    wanted = minor(version)
    found, why = installed_kubelet(conn, facts)
    if found is None:
        return wanted, f"profile {version}; {why or 'no kubelet version'}".replace(
            "kubelet is not installed", "no kubelet installed"
        )
    shown = ".".join(map(str, found))
    if wanted > found[:2]:
        return (found[0], found[1] + 1), f"kubelet {shown} installed, upgrading to {version}"
    return found[:2], f"kubelet {shown} installed"


@check(
    "k8s.cgroup.v2",
    "cgroup v2 (unified hierarchy), now and after the next boot; v1 is deprecated before "
    "Kubernetes 1.35",
    severity="warning",
    refs={
        "kubeadm": "system-validators v1.12.1 cgroup_validator_linux.go CgroupsValidator."
        "Validate (KubeletVersion below 1.35: a warning), kubernetes/kubernetes#134744"
    },
    fix=boot_fixes.unify_cgroups,
    params="kubernetes_version",
    argnames="version",
    tags=("system",),
)
def test_cgroup_v2(conn, facts, version):
    judged, source = judged_version(conn, facts, version)
    if judged >= (1, 35):
        pytest.skip(
            f"from 1.35 cgroup v1 is an error: k8s.cgroup.v2.required "
            f"(judged as {judged[0]}.{judged[1]}: {source})"
        )
    v2_verdict(kernel.cgroup_state_of(conn, facts), f" ({source})")


@check(
    "k8s.cgroup.v2.required",
    "cgroup v2 (unified hierarchy), now and after the next boot; required from Kubernetes 1.35",
    refs={
        "kubelet": "KubeletConfiguration failCgroupV1 (KEP-4569), true by default from 1.35 "
        "(KEP-5573)",
        "kubeadm": "system-validators v1.12.1 cgroup_validator_linux.go CgroupsValidator."
        "Validate (KubeletVersion 1.35 or newer: an error), kubernetes/kubernetes#134744",
    },
    fix=boot_fixes.unify_cgroups,
    params="kubernetes_version",
    argnames="version",
    tags=("system",),
)
def test_cgroup_v2_required(conn, facts, version):
    judged, source = judged_version(conn, facts, version)
    if judged < (1, 35):
        pytest.skip(
            f"before 1.35 cgroup v1 is a warning: k8s.cgroup.v2 "
            f"(judged as {judged[0]}.{judged[1]}: {source})"
        )
    v2_verdict(
        kernel.cgroup_state_of(conn, facts),
        f"; kubelet {judged[0]}.{judged[1]} refuses to start on cgroup v1 ({source})",
    )


@check(
    "k8s.resources.cpu",
    "Enough CPUs",
    refs={"kubeadm": "checks.go NumCPUCheck.Check"},
    params="min_cpus",
    argnames="cpus",
    tags=("system",),
)
def test_cpus(facts, cpus):
    assert facts.cpu_count is not None, "the number of CPUs is unknown"
    assert facts.cpu_count >= int(cpus), f"{facts.cpu_count} CPU(s), need {cpus}"


@check(
    "k8s.resources.memory",
    "Enough memory (control plane)",
    refs={"kubeadm": "checks_linux.go MemCheck.Check, ControlPlaneMem, InitNodeChecks only"},
    params="min_memory_mib",
    argnames="mebibytes",
    tags=("system",),
)
def test_memory(facts, mebibytes):
    # kubeadm: Totalram*Unit/1024/1024 against 1700, which is /proc/meminfo's MemTotal in
    # kB divided by 1024, rounded down: mebibytes, not decimal megabytes.
    mib = facts.memory_mib
    assert mib is not None, "the amount of memory is unknown (/proc/meminfo has no MemTotal)"
    assert mib >= int(mebibytes), f"{mib} MiB of memory, need {mebibytes} MiB"
