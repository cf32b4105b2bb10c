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


def test_the_kernel_defaults_fix_is_one_change_declared_for_what_it_does():
    # kubelet setupKernelTunables (pkg/kubelet/cm/container_manager_linux.go): these six,
    # exactly. Setting kernel.panic, kernel.panic_on_oops and vm.overcommit_memory changes
    # how the host behaves on an oops, a panic and under memory pressure: not low.
    from hostkit_catalog.remediations import sysctl as fixes_sysctl
    from kit.catalog.check import meta_of
    from kit.plugin import fix as fixflow

    class Item:  # the one marker meta_of reads, as pytest gives it
        def __init__(self) -> None:
            self.stash: dict = {}

        @staticmethod
        def get_closest_marker(name):
            return test_kernel.test_sysctl_kernel_defaults.pytestmark[0]

    meta = meta_of(Item())
    assert meta.id == "k8s.sysctl.kernel-defaults"
    assert meta.fix is fixes_sysctl.set_kernel_default
    declared = fixflow.meta_of(meta.fix)
    assert declared.disruption == "medium"
    assert "kernel.panic" in (meta.fix.__doc__ or "")
    assert fixes_sysctl.KERNEL_DEFAULTS == {
        "vm.overcommit_memory": "1",
        "vm.panic_on_oom": "0",
        "kernel.panic": "10",
        "kernel.panic_on_oops": "1",
        "kernel.keys.root_maxkeys": "1000000",
        "kernel.keys.root_maxbytes": "25000000",
    }
    node = profile.load("kubernetes-node", Path(test_kernel.__file__).parent / "profiles")
    assert dict(node.values("sysctls_kernel_defaults")) == fixes_sysctl.KERNEL_DEFAULTS


@pytest.mark.parametrize(
    "check_id", ["k8s.sysctl", "k8s.sysctl.installer", "k8s.sysctl.kernel-defaults"]
)
def test_explain_says_where_the_sysctl_fix_writes_and_why(check_id):
    from kit.catalog import describe

    text = " ".join(" ".join(describe.explain(describe.ROOT / "checks", check_id)).split())
    assert "never into /etc/sysctl.conf" in text
    assert "sorts after 99-sysctl.conf" in text
    assert "Debian 11, 12 and 13" in text
    assert "commented" not in text


def test_the_drop_in_wins_over_debians_sysctl_conf_at_boot():
    # Debian 11/12: /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf sets 0; the drop-in,
    # named so that it sorts after it, sets 1: boot applies 1 (systemd-sysctl's order).
    drop_in = kernel.MANAGED_SYSCTL
    files = (
        "@@link:/etc/sysctl.d/99-sysctl.conf\t/etc/sysctl.conf\n"
        "@@file:/etc/sysctl.d/99-sysctl.conf\nnet.ipv4.ip_forward=0\n"
        "@@file:/etc/sysctl.conf\nnet.ipv4.ip_forward=0\n"
        f"@@file:{drop_in}\nnet.ipv4.ip_forward = 1\n"
    )
    facts = load("debian12", boot_files=files)
    facts = dataclasses.replace(facts, sysctls={**facts.sysctls, "net.ipv4.ip_forward": "1"})
    test_kernel.test_sysctl(facts, "net.ipv4.ip_forward", "1")
    # A file that sorts after the drop-in is the one boot applies, and is named.
    later = files + "@@file:/etc/sysctl.d/zz-site.conf\nnet.ipv4.ip_forward = 0\n"
    facts = dataclasses.replace(facts, boot_files=load("debian12", boot_files=later).boot_files)
    fails(
        test_kernel.test_sysctl,
        facts,
        "net.ipv4.ip_forward",
        "1",
        match="boot sets 0 (/etc/sysctl.d/zz-site.conf)",
    )
