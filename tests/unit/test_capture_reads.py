"""kit/capture's readers over facts built here (no host: what a gather would have parsed),
and the YAML they become: what is pinned, what is left out and said, what is escaped."""

from __future__ import annotations

from kit import yamlsafe
from kit.capture import reads
from kit.capture.render import render
from kit.catalog.profile import Profile
from kit.facts import Facts
from kit.facts.model import ModulesBoot

PARENT = Profile(
    "base",
    checks=("k8s.sysctl",),
    params={
        "sysctls": {"net.ipv4.ip_forward": "1", "net.bridge.bridge-nf-call-iptables": "1"},
        "modules": ["overlay", "br_netfilter"],
    },
)


def golden(**facts) -> reads.Golden:
    # The readers here read facts only: no connection exists (a None stands in for it).
    return reads.Golden(None, Facts(**facts))  # type: ignore[arg-type]


def test_a_sysctl_is_pinned_to_its_live_value_and_a_missing_key_is_left_out_said():
    node = golden(
        sysctls={"net.ipv4.ip_forward": "0"},
        boot_files={"/etc/sysctl.d/90-k8s.conf": "net.ipv4.ip_forward = 0\n"},
    )
    got = reads.sysctls(node, PARENT, "sysctls")
    assert got.value == {"net.ipv4.ip_forward": "0"}
    assert got.remarks == [
        "left out net.bridge.bridge-nf-call-iptables: not on the golden node's kernel"
    ]


def test_a_sysctl_live_but_not_set_at_boot_is_pinned_and_said_to_fail_there_too():
    node = golden(sysctls={"net.ipv4.ip_forward": "1", "net.bridge.bridge-nf-call-iptables": "1"})
    got = reads.sysctls(node, PARENT, "sysctls")
    assert got.value == {"net.ipv4.ip_forward": "1", "net.bridge.bridge-nf-call-iptables": "1"}
    assert [r.split(" is ")[0] for r in got.remarks] == [
        "net.ipv4.ip_forward",
        "net.bridge.bridge-nf-call-iptables",
    ]
    assert all("nothing sets it at boot" in r for r in got.remarks)


def test_a_parent_without_keys_keeps_its_own_and_says_so():
    got = reads.sysctls(golden(), PARENT, "sysctls_installer")
    assert got.value is None and "sets no keys" in got.note


def test_modules_are_those_the_check_passes_the_parents_missing_one_said():
    node = golden(
        modules=frozenset({"overlay", "ip_vs", "nf_conntrack"}),
        modules_builtin=frozenset(),
        # ip_vs is loaded at boot too; nf_conntrack is loaded by hand only.
        boot_files={"/etc/modules-load.d/k8s.conf": "overlay\nip_vs\n"},
        modules_boot=ModulesBoot(proc_modules_readable=True),
    )
    got = reads.modules(node, PARENT, "modules")
    assert got.value == ["overlay", "ip_vs"]
    assert [r.split(":")[0] for r in got.remarks] == ["left out br_netfilter"]


def test_the_kernel_release_is_pinned_exactly_as_a_pattern():
    got = reads.kernel_release(golden(kernel="6.1.0-28+deb12"), PARENT, "kernel_release")
    assert got.value == [r"^6\.1\.0\-28\+deb12$"]


def test_the_yaml_reads_back_as_pinned_with_what_a_host_sent_escaped_in_comments():
    pinned = {
        "sysctls": reads.Pinned({"net.ipv4.ip_forward": "1"}, "live\nname: evil"),
        "modules": reads.Pinned(None, "no module\x1b[2J", ["left out x: y\nparams: {}"]),
    }
    text = render("site", "base", "ssh://golden", pinned, {"disk_free": "a threshold"})
    data = yamlsafe.load(text)
    assert data == {
        "name": "site",
        "extends": "base",
        "params": {"sysctls": pinned["sysctls"].value},
    }
    assert "\x1b" not in text and "\\x1b[2J" in text
    assert "#   disk_free: a threshold\n" in text
