"""The facts script on a Kubernetes node under systemd (faked: see fake_node), compared
with the earlier script, section by section, and the processes it starts there."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.facts import parse_facts
from kit.facts.gather import script
from kit.facts.parse import split_sections
from tests.facts_compare import OLD_SCRIPT, differences
from tests.local.fake_node import counts, run_scripts

# Sections whose text changes between two reads of this machine; their facts are
# compared through differences(), which leaves out what changed between the old runs.
_MOVING = {"sysctls", "kernelprep-df", "net-tcp", "net-tcp6", "net-udp", "net-udp6"}


@pytest.mark.parametrize("old_systemd", [False, True], ids=["systemd", "old-systemd"])
def test_a_node_gather_says_what_the_earlier_script_said(tmp_path: Path, old_systemd: bool):
    old, new, again = run_scripts(
        tmp_path,
        [OLD_SCRIPT.read_text(), script(), OLD_SCRIPT.read_text()],
        old_systemd=old_systemd,
    )
    facts = [parse_facts(text) for text in (old, new, again)]
    # The fake node is what the sections read: the branches under systemd and as root ran.
    assert facts[1].init_system.type == "systemd"
    assert facts[1].unit_states["chronyd.service"] == "alias"
    assert facts[1].kubelet_files is not None and "clientCAFile" in facts[1].kubelet_files.dump
    assert facts[1].runtime is not None and facts[1].runtime.kubelet_version == (
        0,
        "Kubernetes v1.31.1",
    )
    assert {(s.address, s.port) for s in facts[1].listening} == {
        ("127.0.0.1", 10250),
        ("::", 10256),
    }
    assert differences(*facts) == []
    a, b, c = (split_sections(text) for text in (old, new, again))
    for name in sorted(set(a) | set(b)):
        if name in _MOVING or a.get(name) != c.get(name):
            continue
        if name in {"files"}:  # the same lines, those of absent files first
            assert sorted(a[name].splitlines()) == sorted(b[name].splitlines())
            continue
        assert b.get(name) == a.get(name), name


def test_a_unit_file_without_a_last_newline_still_names_the_kubelet_config_dir(tmp_path: Path):
    """The files the kubelet's flags come from are read one by one: the last line of a
    drop-in without its newline is not joined to the first of the next file (the earlier
    script's `cat` of all of them saw --config-dir
    /etc/kubernetes/kubelet.conf.dKUBELET_EXTRA_ARGS=)."""
    dropin = "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
    text = "[Service]\nExecStart=/usr/bin/kubelet --config-dir /etc/kubernetes/kubelet.conf.d"
    (answer,) = run_scripts(tmp_path, [script()], files={dropin: text})
    files = parse_facts(answer).kubelet_files
    assert files is not None and files.dump is not None
    dirs = [ln for ln in files.dump.splitlines() if ln.startswith("@@hostkit-kubelet-dir ")]
    assert dirs == [
        "@@hostkit-kubelet-dir /etc/kubernetes/kubelet.conf.d"
        " /etc/kubernetes/kubelet.conf.d/20-a.conf /etc/kubernetes/kubelet.conf.d/sub/30-b.conf"
    ]


# What a kubeadm node's facts need a program for, one process each (the node's own
# programs run under timeout: two). Reading files costs none.
NODE_PROGRAMS = (
    "nft list ruleset",
    "iptables -S",
    "ip: addresses and IPv4 default route, in batch mode",
    "ip -6 route show default",
    "readlink /etc/localtime",
    "readlink -f of the boot files' links and /etc/resolv.conf",
    "timedatectl show",
    "chronyc tracking",
    "systemctl is-enabled of the units",
    "systemctl is-enabled of a unit with an init script (ntp)",
    "grep -r . /proc/sys",
    "getent hosts",
    "stat of the probed files",
    "dpkg-query of the probed packages",
    "gzip -dc /proc/config.gz",
    "grep of the kernel config",
    "df",
    "grep -r -L . /proc/sys: the empty sysctls",
    "md5sum: which of them read without an error",
    "systemctl show of the units' properties",
    "ufw status",
    "timeout, containerd config default",
    "containerd config default",
    "timeout, ctr plugins ls",
    "ctr plugins ls",
    "timeout, kubelet --version",
    "kubelet --version",
    "ss -Hltnp",
    "tr of the kubelet's command line",
    "tr of kube-proxy's command line",
    "find in the kubelet's --config-dir",
    "stat of the kubelet's and containerd's files",
)


def test_processes_of_a_node_gather(tmp_path: Path):
    run_scripts(tmp_path, [":", OLD_SCRIPT.read_text(), script()])
    empty, before, after = counts(tmp_path, 3)
    print(f"node gather (root, systemd, kubelet, containerd): {after} processes; before: {before}")
    assert empty == 0
    assert after <= len(NODE_PROGRAMS)
