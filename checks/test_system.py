"""Executables, time, cgroups and resources a node needs (kubeadm preflight)."""

from kit.check import check
from kit.runner import files
from remediations import packages
from remediations import time as time_fixes


def _executable_check(check_id: str, title: str, severity: str, params: str):
    @check(
        check_id,
        title,
        severity=severity,
        refs={"kubeadm": "FileExisting-<name>"},
        fix=packages.install_for_executable,
        params=params,
        argnames="executable,package",
        tags=("system",),
    )
    def test(conn, facts, executable, package):
        # Facts answer for the executables the gather script asks about; others cost a lookup.
        if executable in facts.executables:
            path = facts.executables[executable]
        else:
            path = files.look_path(conn, executable)
        assert path, f"{executable} not found (package {package})"

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
    "k8s.time.synchronized",
    "Clock is synchronised by chrony or systemd-timesyncd",
    severity="warning",
    refs={"installers": "time sync"},
    fix=time_fixes.sync_time,
    tags=("system",),
)
def test_time_synchronized(facts):
    sync = facts.time_sync
    assert sync.service, "no time synchronisation service (chrony or systemd-timesyncd) runs"
    assert sync.synchronized, f"{sync.service} runs but the clock is not synchronised"


@check(
    "k8s.cgroup.v2",
    "cgroup v2 (unified hierarchy)",
    severity="warning",
    refs={"kubeadm": "SystemVerification"},
    tags=("system",),
)
def test_cgroup_v2(facts):
    assert facts.cgroup_version == 2, f"cgroup v{facts.cgroup_version}: v1 support is deprecated"


@check(
    "k8s.resources.cpu",
    "Enough CPUs",
    refs={"kubeadm": "NumCPU"},
    params="min_cpus",
    argnames="cpus",
    tags=("system",),
)
def test_cpus(facts, cpus):
    assert facts.cpu_count is not None and facts.cpu_count >= int(cpus), (
        f"{facts.cpu_count} CPU(s), need {cpus}"
    )


@check(
    "k8s.resources.memory",
    "Enough memory",
    refs={"kubeadm": "Mem"},
    params="min_memory_mb",
    argnames="megabytes",
    tags=("system",),
)
def test_memory(facts, megabytes):
    mb = facts.memory_mib * 1.048576 if facts.memory_mib is not None else None
    assert mb is not None and mb >= int(megabytes), f"{mb:.0f} MB of memory, need {megabytes}"
