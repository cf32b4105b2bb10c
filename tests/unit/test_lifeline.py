"""What a connection depends on, from process chains and cgroups as hosts print them.

Each chain is the output of kit.runner.lifeline.SCRIPT: the recorded ones come from
the disposable Debian 12 VM and container (tests/unit/data/lifeline/), the others
are written in the same format for set-ups those hosts do not have (logind
sessions, cgroup v1, a user manager).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.runner import lifeline

DATA = Path(__file__).parent / "data" / "lifeline"


def chain(*procs: tuple[int, int, str, str], ssh: str = "10.0.2.2 40000 10.0.2.15 22") -> str:
    head = f"user\troot\t0\nhome\t/root\ngroups\troot\nssh\t{ssh}\n"
    return head + "".join(
        f"proc\t{pid}\t{ppid}\t{pid * 10}\t{cg}\t{name}\n" for pid, ppid, name, cg in procs
    )


# No logind: everything an SSH login starts stays in ssh.service.
NO_LOGIND = chain(
    (900, 850, "sh", "0::/system.slice/ssh.service|"),
    (850, 840, "sshd", "0::/system.slice/ssh.service|"),
    (840, 1, "sshd", "0::/system.slice/ssh.service|"),
    (1, 0, "systemd", "0::/init.scope|"),
)
# logind puts the session in a scope; the listening sshd stays in ssh.service.
LOGIND = chain(
    (900, 850, "sh", "0::/user.slice/user-1000.slice/session-7.scope|"),
    (850, 840, "sshd-session", "0::/user.slice/user-1000.slice/session-7.scope|"),
    (840, 1, "sshd", "0::/system.slice/ssh.service|"),
    (1, 0, "systemd", "0::/init.scope|"),
)
# A shell run by a user manager: stopping user@1000.service ends it too.
USER_MANAGER = chain(
    (900, 850, "sh", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/hk.service|"),
    (850, 1, "systemd", "0::/user.slice/user-1000.slice/user@1000.service/init.scope|"),
    (1, 0, "systemd", "0::/init.scope|"),
)
# cgroup v1 (CentOS 7): the systemd hierarchy's line names the unit.
CGROUP_V1 = chain(
    (900, 850, "sh", "1:name=systemd:/system.slice/sshd.service|"),
    (850, 1, "sshd", "1:name=systemd:/system.slice/sshd.service|"),
    (1, 0, "systemd", "1:name=systemd:/|"),
)


def test_without_logind_the_session_lives_in_ssh_service():
    line = lifeline.parse(NO_LOGIND, "ssh")
    assert line.units == {"ssh.service"}
    assert line.port == 22 and line.user == "root" and line.client == "10.0.2.2"
    assert line.holder().pid == 850
    assert "carries this connection" in line.protects_unit("ssh")


def test_a_logind_session_scope_is_protected_and_so_are_the_sshd_units():
    line = lifeline.parse(LOGIND, "ssh")
    assert line.units == {"session-7.scope", "ssh.service"}
    assert line.protects_unit("session-7.scope")
    assert line.holder().name == "sshd-session"
    for unit in ("sshd.service", "ssh.socket", "sshd@3-10.0.0.1:22-10.0.0.9:5000.service"):
        assert "serves SSH logins" in line.protects_unit(unit)
    assert line.protects_unit("networking") and line.protects_unit("NetworkManager.service")


@pytest.mark.parametrize("unit", ["kubelet", "etcd.service", "hk-squatter.service", "cron"])
def test_units_the_connection_does_not_run_through_may_be_stopped(unit):
    assert lifeline.parse(LOGIND, "ssh").protects_unit(unit) is None


def test_every_unit_on_the_cgroup_path_counts():
    line = lifeline.parse(USER_MANAGER, "ssh")
    assert {"user@1000.service", "hk.service"} <= line.units
    assert line.protects_unit("user@1000.service")


def test_cgroup_v1_systemd_hierarchy():
    line = lifeline.parse(CGROUP_V1, "ssh")
    assert line.units == {"sshd.service"}


def test_local_connection_protects_the_controllers_own_units_not_sshd_by_name():
    line = lifeline.parse(
        USER_MANAGER.replace("ssh\t10.0.2.2 40000 10.0.2.15 22", "ssh\t"), "local"
    )
    assert line.port is None
    assert line.protects_unit("hk.service")
    assert line.protects_unit("ssh.service") is None
    assert line.holder(controller=850).name == "systemd"
    assert line.holder(controller=4242) is None


def test_names_with_spaces_and_odd_ports_parse():
    text = chain((5, 1, "my tool (x)", "0::/system.slice/a.service|"), ssh="::1 5 ::1 2222")
    line = lifeline.parse(text, "ssh")
    assert line.port == 2222 and line.client == "::1" and line.chain[0].name == "my tool (x)"


@pytest.mark.parametrize("recorded", sorted(DATA.glob("*.txt")), ids=lambda p: p.stem)
def test_recorded_hosts(recorded):
    """Chains read over SSH from the disposable Debian hosts (no logind there)."""
    line = lifeline.parse(recorded.read_text(), "ssh")
    assert line.port == 22 and line.user == "root"
    assert "ssh.service" in line.units
    assert line.holder() is not None and line.holder().name.startswith("sshd")
    assert line.protects_unit("ssh.service") and line.protects_unit("kubelet") is None


# nsenter:// from a hostPID pod (systemd cgroup driver): the entered shell is nsenter's
# child, under hostkit's Python, in the pod's container scope; its shim in containerd's.
POD = "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1a2b.slice/"
NSENTER_FROM_POD = chain(
    (7000, 6990, "sh", POD + "cri-containerd-9f8e.scope|"),
    (6990, 6900, "nsenter", POD + "cri-containerd-9f8e.scope|"),
    (6900, 6800, "hostkit", POD + "cri-containerd-9f8e.scope|"),
    (6800, 1, "containerd-shim", "0::/system.slice/containerd.service|"),
    (1, 0, "systemd", "0::/init.scope|"),
    ssh="",
)


@pytest.mark.parametrize(
    ("unit", "why"),
    [
        ("containerd", "containerd.service runs containerd-shim"),
        ("kubelet", "kubelet.service is the kubelet, which keeps the pod"),
        ("crio.service", "crio.service is a container runtime, which keeps the pod"),
        ("docker.service", "docker.service is a container runtime, which keeps the pod"),
        ("cri-docker.service", "cri-docker.service is a container runtime, which keeps the pod"),
        ("cri-containerd-9f8e.scope", "cri-containerd-9f8e.scope runs hostkit"),
    ],
)
def test_nsenter_protects_the_runtime_and_kubelet_that_keep_its_pod(unit, why):
    line = lifeline.parse(NSENTER_FROM_POD, "nsenter")
    assert why in line.protects_unit(unit)


@pytest.mark.parametrize("unit", ["ssh.service", "chrony.service", "systemd-networkd.service"])
def test_nsenter_leaves_units_the_pod_does_not_need(unit):
    assert lifeline.parse(NSENTER_FROM_POD, "nsenter").protects_unit(unit) is None


def test_other_transports_do_not_protect_the_runtime_by_name():
    assert lifeline.parse(NO_LOGIND, "ssh").protects_unit("kubelet.service") is None
