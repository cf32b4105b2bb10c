"""The sysctl groups: list-valued sysctls compared as port ranges, floors, and the profiles.

kubekey's node preparation (pkg/bootstrap/os/templates/init_script.go) reserves
30000-32767 in net.ipv4.ip_local_reserved_ports; the kernel prints the list with commas
(`sysctl -n` on a host with 30000-32767 and 8080 reserved shows `8080,30000-32767`).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hostkit_catalog.checks import test_kernel
from kit.catalog import profile
from kit.errors import KitValueError
from kit.runner import kernel
from tests.unit.test_catalog_verdicts import fails, load

NODEPORTS = "includes 30000-32767"
KEY = "net.ipv4.ip_local_reserved_ports"


def test_port_ranges_merge_and_sort():
    assert kernel.parse_port_ranges("8080,30000-31000,31001-32767") == [
        (8080, 8080),
        (30000, 32767),
    ]
    assert kernel.parse_port_ranges("") == []
    assert kernel.format_port_ranges([(8080, 8080), (30000, 32767)]) == "8080,30000-32767"
    for bad in ("30000-", "a-b", "32767-30000", "70000"):
        with pytest.raises(KitValueError):
            kernel.parse_port_ranges(bad)


@pytest.mark.parametrize(
    "live,ok",
    [
        ("30000-32767", True),
        ("8080,30000-32767", True),
        ("29000-33000", True),
        # Two ranges that meet cover it together, as the kernel's bitmap would.
        ("30000-31000,31001-32767", True),
        ("30000-32766", False),
        ("", False),
        # Compared as text, this equals nothing the profile says; as ranges it covers it.
        ("30000-32767,40000", True),
    ],
)
def test_includes_compares_sets_of_ranges_not_text(live, ok):
    assert kernel.meets(live, NODEPORTS) is ok


def test_meets_keeps_exact_values_and_floors():
    assert kernel.meets("1", "1") and not kernel.meets("0", "1")
    assert kernel.meets("1048576", ">=524288") and not kernel.meets("8192", ">=524288")
    assert kernel.describe_meets(NODEPORTS) == "a list including 30000-32767"


def _with(facts, boot: str, **live: str):
    sysctls = {**facts.sysctls, **live}
    raw_boot = load("debian12", boot_files=boot)
    return dataclasses.replace(
        facts, sysctls=sysctls, boot_files=raw_boot.boot_files, boot_links=raw_boot.boot_links
    )


@pytest.mark.parametrize("name", ["debian12", "ubuntu2204", "rocky9"])
def test_reserved_ports_live_and_at_boot(name):
    facts = load(name)
    boot = f"@@file:/etc/sysctl.d/99-hostkit.conf\n{KEY} = 8080,30000-32767\n"
    test_kernel.sysctl_verdict(_with(facts, boot, **{KEY: "8080,30000-32767"}), KEY, NODEPORTS)
    message = fails(test_kernel.sysctl_verdict, _with(facts, boot, **{KEY: ""}), KEY, NODEPORTS)
    assert message.startswith(f"{KEY} is (empty) now, want a list including 30000-32767")
    fails(
        test_kernel.sysctl_verdict,
        _with(facts, "", **{KEY: "30000-32767"}),
        KEY,
        NODEPORTS,
        match="boot sets nothing",
    )


def test_debian12_fails_the_installers_inotify_floor_and_the_kernel_defaults():
    facts = load("debian12")  # a real Debian 12: max_user_watches 192536, overcommit 0
    fails(
        test_kernel.sysctl_verdict,
        facts,
        "fs.inotify.max_user_watches",
        ">=524288",
        match="is 192536 now, want at least 524288",
    )
    fails(test_kernel.sysctl_verdict, facts, "vm.overcommit_memory", "1", match="is 0 now")


def test_the_groups_are_separate_checks_in_the_profiles():
    directory = Path(test_kernel.__file__).parent / "profiles"
    node = profile.load("kubernetes-node", directory)
    dual = profile.load("kubernetes-node-dual-stack", directory)
    for check_id in ("k8s.sysctl.kernel-defaults", "k8s.sysctl.installer"):
        assert node.order_of(check_id) is not None
    # IPv6 forwarding is for a dual-stack node only.
    assert node.order_of("k8s.sysctl.dual-stack") is None
    assert dual.order_of("k8s.sysctl.dual-stack") is not None
    assert dict(dual.values("sysctls_dual_stack")) == {
        "net.ipv6.conf.all.forwarding": "1",
        "net.ipv6.conf.default.forwarding": "1",
    }
    # kubelet's setupKernelTunables compares these exactly: no floors.
    defaults = dict(node.values("sysctls_kernel_defaults"))
    assert defaults["kernel.keys.root_maxkeys"] == "1000000"
    assert not any(v.startswith(">=") for v in defaults.values())
    assert dict(node.values("sysctls_installer"))[KEY] == NODEPORTS


def test_bridge_nf_call_follows_kubeadm_by_the_profiles_version():
    # kubeadm <= 1.29 addIPv4Checks: FileContent /proc/sys/net/bridge/bridge-nf-call-iptables
    # is "1"; removed in 1.30 (kubernetes/kubernetes#123464).
    from tests.unit.test_catalog_verdicts import skips

    key = "net.bridge.bridge-nf-call-iptables"
    facts = load("debian12")
    off = dataclasses.replace(facts, sysctls={**facts.sysctls, key: "0"})
    fails(test_kernel.test_sysctl_bridge_nf_call, None, off, "1.29", match=f"{key} is 0 now")
    skips(test_kernel.test_sysctl_bridge_nf_call, None, off, "1.30", match="from 1.30")
    skips(test_kernel.test_sysctl_bridge_nf_call, None, off, "v1.35.1", match="from 1.30")
    on = dataclasses.replace(
        facts,
        sysctls={**facts.sysctls, key: "1"},
        boot_files={"/etc/sysctl.d/k8s.conf": f"{key} = 1\n"},
    )
    test_kernel.test_sysctl_bridge_nf_call(None, on, "1.28")
