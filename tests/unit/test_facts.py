"""Facts parsed from recorded script outputs, with no host."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kit.errors import FactUnknown, KitError
from kit.facts import Interface, Socket, TimeSync, fill, parse, parse_facts
from kit.facts.gather import script

DATA = Path(__file__).parent / "data" / "facts"


def load(name: str):
    return parse_facts((DATA / f"{name}.txt").read_text())


def test_debian12_recorded_on_a_real_host():
    facts = load("debian12")
    assert facts.os.id == "debian"
    assert facts.os.version_id == "12"
    assert facts.os.family == "debian"
    assert facts.package_manager.type == "apt"
    assert "DEBIAN_FRONTEND=noninteractive" in facts.package_manager.install_cmd
    assert facts.memory_mib == 24684092 // 1024
    assert facts.cpu_count == 2
    assert facts.ipv4_default == "192.0.2.2"
    assert facts.ipv6_default == "fd00::2"
    # pid 1 of that machine is neither systemd nor init: explicitly unknown.
    assert facts.init_system.type == "unknown"
    assert facts.modules == frozenset()
    assert facts.firewall == "none"
    assert facts.timezone == "Etc/UTC"
    assert facts.cgroup_version == 1
    assert facts.executables["ip"] == "/usr/sbin/ip"
    assert facts.executables["nft"] is None
    assert facts.sysctls["net.ipv4.tcp_rmem"] == "4096 131072 33554432"
    assert facts.boot_id == facts.sysctls["kernel.random.boot_id"]
    assert Socket("tcp", "0.0.0.0", 2024) in facts.listening
    assert len(facts.sysctls) > 1000


def test_ubuntu_apt_systemd_ufw():
    facts = load("ubuntu2204")
    assert (facts.os.id, facts.os.version_id, facts.os.family) == ("ubuntu", "22.04", "debian")
    assert facts.os.pretty_name == "Ubuntu 22.04.4 LTS"
    assert facts.hostname == "ubuntu-node1"
    assert facts.kernel == "5.15.0-105-generic"
    assert facts.package_manager.type == "apt"
    assert facts.init_system.type == "systemd"
    assert facts.init_system.enable_cmd == "systemctl enable -- {}"
    assert facts.apparmor == "enabled"
    assert facts.selinux == "absent"
    assert facts.firewall == "ufw"
    assert facts.swaps == ("/swap.img",)
    assert "br_netfilter" in facts.modules
    assert facts.cgroup_version == 2
    # The route names its source address; that wins over the interface's list.
    assert facts.ipv4_default == "10.0.2.15"
    # Only a link-local IPv6 and no default route: no IPv6 default.
    assert facts.ipv6_default is None
    assert facts.interface("enp0s3") == Interface(
        "enp0s3", ("10.0.2.15",), ("fe80::a00:27ff:fe4e:66a1",)
    )
    assert facts.listening == (
        Socket("tcp", "0.0.0.0", 22),
        Socket("tcp", "::", 22),
        Socket("tcp", "127.0.0.53", 53),
        Socket("udp", "127.0.0.53", 53),
    )
    assert facts.time_sync == TimeSync(True, "systemd-timesyncd")
    assert facts.timezone == "Europe/Berlin"
    assert facts.sysctls["net.ipv4.conf.enp0s3/100.rp_filter"] == "2"
    assert facts.sysctls["net.ipv4.ip_forward"] == "0"
    assert facts.sysctls["dev.cdrom.info"] == (
        "CD-ROM information, Id: cdrom.c 3.20 2003/12/17 drive name: sr0"
    )
    assert facts.mounts[-1].mountpoint == "/srv/my data"


def test_rocky9_dnf_firewalld_selinux():
    facts = load("rocky9")
    assert (facts.os.id, facts.os.version_id, facts.os.family) == ("rocky", "9.3", "rhel")
    # yum is present as dnf's alias; dnf is preferred.
    assert facts.package_manager.type == "dnf"
    assert facts.package_manager.query_cmd == "rpm -q --quiet {}"
    assert facts.init_system.type == "systemd"
    assert facts.selinux == "enforcing"
    assert facts.firewall == "firewalld"
    assert facts.ipv6_default == "2001:db8:1::50"
    assert facts.swaps == ("/dev/dm-1",)
    assert Socket("tcp", "::1", 3306) in facts.listening
    assert Socket("udp", "::1", 323) in facts.listening
    assert facts.time_sync == TimeSync(False, "chronyd")
    assert facts.timezone == "America/New_York"


def test_centos7_yum_iptables():
    facts = load("centos7")
    assert (facts.os.id, facts.os.version_id, facts.os.family) == ("centos", "7", "rhel")
    assert facts.package_manager.type == "yum"
    assert facts.package_manager.install_cmd == "yum install -y -q {}"
    assert facts.selinux == "permissive"
    assert facts.firewall == "iptables"
    assert facts.swaps == ()
    assert facts.cgroup_version == 1
    assert facts.ipv4_default == "172.16.0.7"
    assert facts.time_sync.service == "chronyd"
    assert [s.port for s in facts.listening] == [22, 25]


def test_unknown_os_is_explicit():
    facts = load("unknown")
    assert facts.os.id == "unknown"
    assert facts.os.family == "unknown"
    assert facts.package_manager.type == "unknown"
    assert facts.init_system.type == "unknown"
    assert facts.memory_mib is None
    assert facts.cpu_count is None
    assert facts.hostname == "unknown"
    assert facts.boot_id == "unknown"
    assert facts.timezone == "unknown"
    assert facts.ipv4_default is None
    assert facts.cgroup_version is None
    assert facts.time_sync == TimeSync(None, None)
    # A builtin reported by `command -v` is not a usable file.
    assert facts.executables["hostname"] is None
    assert facts.executables["mount"] == "/bin/mount"


@pytest.mark.parametrize("fact", ["package_manager", "init_system", "os.id", "memory_mib"])
def test_require_names_the_unknown_fact(fact):
    facts = load("unknown")
    with pytest.raises(FactUnknown, match=fact.replace(".", r"\.")) as info:
        facts.require(fact)
    assert isinstance(info.value, KitError)
    assert info.value.fact == fact


def test_require_returns_known_values():
    facts = load("rocky9")
    assert facts.require("package_manager").type == "dnf"
    assert facts.require("os.family") == "rhel"
    assert facts.require("cpu_count") == 2


def test_facts_are_immutable():
    facts = load("ubuntu2204")
    with pytest.raises(AttributeError):
        facts.hostname = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        facts.sysctls["vm.swappiness"] = "1"  # type: ignore[index]


def test_fill_quotes_names_and_keeps_shell_braces():
    facts = load("debian12")
    cmd = fill(facts.package_manager.query_cmd, "a b;rm")
    assert "${Status}" in cmd
    assert "'a b;rm'" in cmd
    assert fill("apt-get install -y {}", "curl", "jq") == "apt-get install -y curl jq"


def test_script_has_every_section_the_parser_reads():
    text = script()
    named = set(re.findall(r"^\s*[sb] ([a-z0-9-]+)$", text, re.MULTILINE))
    named |= {f"net-{p}" for p in re.search(r"for f in ([a-z0-9 ]+);", text).group(1).split()}
    parser = (Path(parse.__file__)).read_text()
    wanted = set(re.findall(r'sec\.get\("([a-z0-9-]+)"', parser))
    assert wanted, "no section names found in the parser"
    # Sections of the earlier scripts that the parser still reads in recorded answers:
    # the empty sysctls now come from the one pass over /proc/sys.
    older = {"kernelprep-sysctl-empty"}
    assert older <= wanted
    assert wanted - older <= named
    assert not older & named
    assert {"net-tcp", "net-udp6"} <= named


def test_iptables_nft_tables_alone_are_iptables_not_nftables():
    text = (
        (DATA / "centos7.txt")
        .read_text()
        .replace(
            "@@hostkit:nft\n",
            "@@hostkit:nft\ntable ip filter {\n\tchain INPUT {\n\t\ttcp dport 22 accept\n"
            "\t}\n}\nrc=0\n",
        )
    )
    assert parse_facts(text).firewall == "iptables"


def test_unreadable_rules_make_the_firewall_unknown():
    text = (DATA / "centos7.txt").read_text()
    text = text.replace("-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT\nrc=0", "rc=4")
    assert parse_facts(text).firewall == "unknown"


def _recorded_with(name: str, old: str, new: str) -> str:
    text = (DATA / f"{name}.txt").read_text()
    assert old in text
    return text.replace(old, new)


def test_an_address_that_is_not_one_is_dropped_and_the_default_is_unknown():
    facts = parse_facts(_recorded_with("centos7", "inet 172.16.0.7/16", "inet garbage/24"))
    assert facts.interface("eth0") == Interface("eth0")
    assert facts.ipv4_default is None


def test_a_garbage_route_source_falls_back_to_the_device_address():
    raw = _recorded_with("ubuntu2204", "src 10.0.2.15", "src garbage")
    assert parse_facts(raw).ipv4_default == "10.0.2.15"


def test_a_cpu_count_that_is_not_ascii_digits_is_unknown():
    assert (
        parse_facts(_recorded_with("centos7", "@@hostkit:cpu\n1", "@@hostkit:cpu\n²")).cpu_count
        is None
    )


def test_an_unreadable_probe_status_makes_the_firewall_unknown():
    raw = _recorded_with("centos7", "--dport 22 -j ACCEPT\nrc=0", "--dport 22 -j ACCEPT\nrc=x")
    raw = raw.replace("@@hostkit:nft\n", "@@hostkit:nft\nrc=x\n")
    assert parse_facts(raw).firewall == "unknown"
