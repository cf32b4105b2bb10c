"""Host preparation verdicts over recorded answers: Debian 12, Ubuntu 22.04 and Rocky 9.

Each reader's shell output is recorded as the host prints it and parsed by the
check's own parser; the verdict is the check's own assertion. Where a reference
cannot run here, the test names the file and function it follows.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hostkit_catalog.checks import test_hostprep as hp
from hostkit_catalog.remediations import hostprep as fixes
from kit.catalog import profile
from kit.facts import parse_facts

FACTS = Path(__file__).parent / "data" / "facts"


def facts_of(name: str):
    return parse_facts((FACTS / f"{name}.txt").read_text())


def fails(verdict, *args, match: str = "") -> str:
    with pytest.raises(AssertionError) as info:
        verdict(*args)
    assert match in str(info.value), str(info.value)
    return str(info.value)


# -- ufw: ufw(8) status, /etc/ufw/ufw.conf ENABLED ----------------------------------

UBUNTU_UFW_ACTIVE = (
    "ENABLED=yes\n@@status\nStatus: active\n\n"
    "To  Action  From\n--  ------  ----\n22/tcp  ALLOW  Anywhere\nrc=0\n"
)
UBUNTU_UFW_STALE = "ENABLED=yes\n@@status\nStatus: inactive\nrc=0\n"
UBUNTU_UFW_OFF = "ENABLED=no\n@@status\nStatus: inactive\nrc=0\n"
UFW_NOT_ROOT = "ENABLED=no\n@@status\nERROR: You need to be root to run this script\nrc=1\n"


def test_ufw_active_fails_on_ubuntu():
    assert facts_of("ubuntu2204").has("ufw")
    fails(hp.verdict_ufw, hp.parse_ufw(True, UBUNTU_UFW_ACTIVE), match="ufw is active")


def test_ufw_off_now_but_enabled_at_boot_fails():
    state = hp.parse_ufw(True, UBUNTU_UFW_STALE)
    assert state == hp.UfwState(True, False, True)
    fails(hp.verdict_ufw, state, match="ENABLED=yes in /etc/ufw/ufw.conf")


def test_ufw_off_now_and_at_boot_passes():
    assert hp.verdict_ufw(hp.parse_ufw(True, UBUNTU_UFW_OFF)) == ""


def test_ufw_status_unreadable_is_unknown_not_inactive():
    fails(hp.verdict_ufw, hp.parse_ufw(True, UFW_NOT_ROOT), match="unknown")


def test_no_ufw_on_debian_and_rocky_passes_saying_so():
    for name in ("debian12", "rocky9"):
        facts = facts_of(name)
        assert not facts.has("ufw")
        # read_ufw asks the host nothing when ufw is not installed.
        assert hp.verdict_ufw(hp.read_ufw(None, facts)) == "ufw is not installed"


# -- SELinux: kubespray 0080-system-configurations.yml "Set selinux policy" ------------

ROCKY_CONFIG = """\
# This file controls the state of SELinux on the system.
# SELINUX= can take one of these three values:
#     enforcing - SELinux enforces security policy.
#     permissive - SELinux prints warnings instead of enforcing.
#     disabled - No SELinux policy is loaded.
SELINUX=enforcing
# SELINUXTYPE= can take one of these three values:
#     targeted - Targeted processes are protected,
#     minimum - Modification of targeted policy. Only selected processes are protected.
#     mls - Multi Level Security protection.
SELINUXTYPE=targeted
"""


def test_rocky_enforcing_fails_now():
    facts = facts_of("rocky9")
    assert facts.selinux == "enforcing"
    fails(hp.verdict_selinux, facts.selinux, ROCKY_CONFIG, match="enforces now")


def test_permissive_now_but_enforcing_in_config_fails_at_boot():
    fails(hp.verdict_selinux, "permissive", ROCKY_CONFIG, match="enforces at boot")


def test_permissive_or_disabled_in_config_passes():
    for mode in ("permissive", '"permissive"', "disabled", "Disabled"):
        text = ROCKY_CONFIG.replace("SELINUX=enforcing", f"SELINUX={mode}")
        assert hp.verdict_selinux("permissive", text) == ""
        assert hp.verdict_selinux("disabled", text) == ""


def test_no_selinux_on_debian_and_ubuntu_passes_saying_so():
    # Debian and Ubuntu ship AppArmor: no /sys/fs/selinux, no /etc/selinux/config.
    for name in ("debian12", "ubuntu2204"):
        facts = facts_of(name)
        assert facts.selinux == "absent"
        assert hp.verdict_selinux(facts.selinux, None) == "SELinux is not present on this host"


def test_config_line_the_fix_writes_is_one_the_check_accepts():
    from kit.edits import keyvalue

    fixed = keyvalue.set_value(ROCKY_CONFIG, "SELINUX", "permissive")
    assert hp.config_mode(fixed) == "permissive"
    assert "SELINUXTYPE=targeted\n" in fixed
    assert fixed.count("SELINUX=") == 2  # the comment's and the setting's


# -- NetworkManager: NetworkManager.conf(5) merge; kubespray 0062-... ------------------

ROCKY_NM = """@@installed:yes
@@active:active
@@file:/etc/NetworkManager/NetworkManager.conf
# Configuration file for NetworkManager.
[main]
#plugins=keyfile,ifcfg-rh

[logging]
#level=DEBUG
"""

CALICO = (
    "interface-name:cali*;interface-name:tunl*;interface-name:vxlan.calico;"
    "interface-name:vxlan-v6.calico"
)
KUBESPRAY_CALICO = (
    "@@file:/etc/NetworkManager/conf.d/calico.conf\n[keyfile]\nunmanaged-devices+=" + CALICO + "\n"
)
# Ubuntu's network-manager package: every device but wifi and modems unmanaged, unless
# netplan's empty file of the same name in /etc hides it.
UBUNTU_NM = """@@installed:yes
@@active:active
@@file:/etc/NetworkManager/NetworkManager.conf
[main]
plugins=ifupdown,keyfile

[ifupdown]
managed=false
@@file:/usr/lib/NetworkManager/conf.d/10-globally-managed-devices.conf
[keyfile]
unmanaged-devices=*,except:type:wifi,except:type:gsm,except:type:cdma
"""
UBUNTU_NETPLAN_HIDES = "@@file:/etc/NetworkManager/conf.d/10-globally-managed-devices.conf\n"


def test_rocky_without_a_drop_in_manages_calicos_interfaces():
    message = fails(hp.verdict_nm, hp.parse_nm(ROCKY_NM), "calico", CALICO)
    assert "interface-name:cali*" in message and "vxlan-v6.calico" in message


def test_kubesprays_calico_conf_passes():
    state = hp.parse_nm(ROCKY_NM + KUBESPRAY_CALICO)
    assert state.installed and state.active
    assert hp.verdict_nm(state, "calico", CALICO) == ""


def test_a_later_file_that_resets_the_list_wins():
    later = (
        "@@file:/etc/NetworkManager/conf.d/zz-site.conf\n"
        "[keyfile]\nunmanaged-devices=mac:00:11:22:33:44:55\n"
    )
    fails(hp.verdict_nm, hp.parse_nm(ROCKY_NM + KUBESPRAY_CALICO + later), "calico", CALICO)
    # An earlier file's reset is appended to, not lost.
    earlier = later.replace("zz-site", "00-site")
    assert hp.verdict_nm(hp.parse_nm(ROCKY_NM + KUBESPRAY_CALICO + earlier), "calico", CALICO) == ""


def test_minus_equals_takes_a_device_back():
    minus = (
        "@@file:/etc/NetworkManager/conf.d/zz-x.conf\n"
        "[keyfile]\nunmanaged-devices-=interface-name:tunl*\n"
    )
    message = fails(
        hp.verdict_nm, hp.parse_nm(ROCKY_NM + KUBESPRAY_CALICO + minus), "calico", CALICO
    )
    assert "tunl*" in message and "cali*" not in message


def test_ubuntus_globally_unmanaged_default_covers_and_netplans_empty_file_hides_it():
    assert hp.verdict_nm(hp.parse_nm(UBUNTU_NM), "calico", CALICO) == ""
    fails(hp.verdict_nm, hp.parse_nm(UBUNTU_NM + UBUNTU_NETPLAN_HIDES), "calico", CALICO)


def test_same_name_in_etc_hides_usr_lib_whatever_the_order_printed():
    usr = (
        "@@file:/usr/lib/NetworkManager/conf.d/calico.conf\n[keyfile]\nunmanaged-devices+="
        + CALICO
        + "\n"
    )
    etc = "@@file:/etc/NetworkManager/conf.d/calico.conf\n[keyfile]\n"
    fails(hp.verdict_nm, hp.parse_nm(ROCKY_NM + usr + etc), "calico", CALICO)
    assert hp.verdict_nm(hp.parse_nm(ROCKY_NM + usr), "calico", CALICO) == ""


def test_a_wider_glob_covers_a_narrower_pattern():
    wide = (
        "@@file:/etc/NetworkManager/conf.d/cni.conf\n[keyfile]\nunmanaged-devices="
        "interface-name:cali*;interface-name:*calico;interface-name:tunl*;interface-name:vxlan*\n"
    )
    assert hp.verdict_nm(hp.parse_nm(ROCKY_NM + wide), "calico", CALICO) == ""


def test_no_networkmanager_on_debian_server_passes_saying_so():
    state = hp.parse_nm("@@active:inactive\n")
    assert hp.verdict_nm(state, "calico", CALICO) == "NetworkManager is not installed"


def test_the_drop_in_the_fix_writes_satisfies_the_check():
    text = "@@file:/etc/NetworkManager/conf.d/calico.conf\n" + fixes.nmconf.drop_in(
        fixes.nmconf.split_list(CALICO)
    )
    assert hp.verdict_nm(hp.parse_nm(ROCKY_NM + text), "calico", CALICO) == ""


def test_profile_groups_cover_kubesprays_files():
    node = profile.load("kubernetes-node", Path(hp.__file__).parent / "profiles")
    groups = dict(node.values("networkmanager_unmanaged"))
    assert groups["calico"] == CALICO
    assert groups["k8s"] == "interface-name:kube-ipvs0;interface-name:nodelocaldns"


# -- proxy: kubeadm HTTPProxyCheck/HTTPProxyCIDRCheck over Go's httpproxy ---------------

UBUNTU_ENVIRONMENT = (
    '@@file:/etc/environment\nPATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n'
)
NO_UNITS = "@@unit:containerd.service\nEnvironment=\n@@unit:kubelet.service\nEnvironment=\n"
TARGETS = ["localhost", "127.0.0.1", "10.96.0.0/12", "10.244.0.0/16"]


def proxy_fails(text: str, target: str, facts=None) -> str:
    sources = hp.parse_proxy(text)
    targets = hp.proxy_targets(target, facts) if facts else [target]
    return fails(hp.verdict_proxy, sources, targets, target)


def proxy_passes(text: str, target: str, facts=None) -> str:
    sources = hp.parse_proxy(text)
    targets = hp.proxy_targets(target, facts) if facts else [target]
    return hp.verdict_proxy(sources, targets, target)


def test_no_proxy_anywhere_passes_saying_so():
    for target in TARGETS:
        assert proxy_passes(UBUNTU_ENVIRONMENT + NO_UNITS, target) == "no HTTP(S)_PROXY is set"


def test_containerd_drop_in_proxy_without_the_service_range_fails():
    # As `systemctl show -p Environment` prints a drop-in's
    # Environment="HTTP_PROXY=..." "NO_PROXY=...".
    units = (
        "@@unit:containerd.service\n"
        "Environment=HTTPS_PROXY=http://proxy.corp:3128 NO_PROXY=localhost,10.0.0.0/8,.svc\n"
        "@@unit:kubelet.service\nEnvironment=\n"
    )
    text = UBUNTU_ENVIRONMENT + units
    assert proxy_passes(text, "10.96.0.0/12") == ""
    message = proxy_fails(text.replace("10.0.0.0/8", "10.0.0.0/16"), "10.96.0.0/12")
    assert "containerd.service sends 10.96.0.0/12 through the proxy" in message
    # Go sends loopback direct: containerd needs no entry for it.
    assert proxy_passes(text.replace("localhost,", ""), "127.0.0.1") == ""


def test_two_cidrs_that_together_cover_the_range_pass():
    units = (
        "@@unit:kubelet.service\n"
        "Environment=HTTP_PROXY=http://p:3128 NO_PROXY=10.96.0.0/13,10.104.0.0/13\n"
    )
    assert proxy_passes(units, "10.96.0.0/12") == ""
    fails_half = units.replace(",10.104.0.0/13", "")
    assert "10.96.0.0/12" in proxy_fails(fails_half, "10.96.0.0/12")


def test_login_environment_needs_localhost_spelt_out():
    # curl and apt read /etc/environment too, and have no implicit loopback rule.
    env = '@@file:/etc/environment\nhttp_proxy="http://proxy:3128"\nno_proxy="10.96.0.0/12"\n'
    message = proxy_fails(env + NO_UNITS, "localhost")
    assert "the login environment (/etc/environment) sends localhost" in message
    assert proxy_passes(env.replace('="10.96', '="localhost,10.96') + NO_UNITS, "localhost") == ""


def test_upper_case_no_proxy_wins_over_lower_case_as_getenvany_reads():
    env = (
        "@@file:/etc/environment\nHTTPS_PROXY=http://p:3128\n"
        "NO_PROXY=.example.com\nno_proxy=10.96.0.0/12\n"
    )
    proxy_fails(env + NO_UNITS, "10.96.0.0/12")


def test_profile_d_export_overrides_etc_environment():
    env = "@@file:/etc/environment\nhttps_proxy=http://p:3128\nno_proxy=localhost\n"
    prof = "@@file:/etc/profile.d/proxy.sh\nexport no_proxy='localhost,10.96.0.0/12' # site\n"
    assert proxy_passes(env + prof + NO_UNITS, "10.96.0.0/12") == ""


def test_node_address_from_facts_on_each_family():
    for name in ("debian12", "ubuntu2204", "rocky9"):
        facts = facts_of(name)
        node = facts.ipv4_default
        allowed = ",".join(filter(None, (node, facts.ipv6_default)))
        units = f"@@unit:kubelet.service\nEnvironment=HTTP_PROXY=http://p:3128 NO_PROXY={allowed}\n"
        assert proxy_passes(units, "@node", facts) == "", name
        message = proxy_fails(units.replace(f"={node}", "=192.0.2.250"), "@node", facts)
        assert f"sends {node} through the proxy" in message


def test_environment_file_overrides_environment_lines():
    units = (
        "@@unit:kubelet.service\nEnvironment=HTTP_PROXY=http://p:3128 NO_PROXY=10.96.0.0/12\n"
        "@@envfile:/etc/default/kubelet\nNO_PROXY=localhost\n"
    )
    proxy_fails(units, "10.96.0.0/12")


def test_api_endpoint_by_domain_suffix():
    units = "@@unit:kubelet.service\nEnvironment=HTTP_PROXY=http://p:3128 NO_PROXY=.corp.example\n"
    assert proxy_passes(units, "cp.corp.example:6443") == ""
    assert proxy_passes(units.replace(".corp", "corp"), "cp.corp.example:6443") == ""
    proxy_fails(units, "cp.example.org:6443")


# -- resolv.conf: kubeadm mutateResolverConfig; kubelet dns.go -------------------------

UBUNTU_STUB = """@@link:/run/systemd/resolve/stub-resolv.conf
@@resolved:active
@@file:/etc/resolv.conf
# This is /run/systemd/resolve/stub-resolv.conf managed by man:systemd-resolved(8).
nameserver 127.0.0.53
options edns0 trust-ad
search .
@@file:/run/systemd/resolve/resolv.conf
nameserver 10.0.2.3
search .
"""
KUBEADM_ON_UBUNTU = (
    "@@file:/var/lib/kubelet/config.yaml\napiVersion: kubelet.config.k8s.io/v1beta1\n"
    "kind: KubeletConfiguration\nresolvConf: /run/systemd/resolve/resolv.conf\n"
)
STUB_CONFIG = KUBEADM_ON_UBUNTU.replace("/run/systemd/resolve/resolv.conf", "/etc/resolv.conf")
DEBIAN_RESOLV = """@@link:/etc/resolv.conf
@@resolved:inactive
@@file:/etc/resolv.conf
domain lan
search lan
nameserver 192.0.2.53
"""
ROCKY_RESOLV = """@@link:/etc/resolv.conf
@@resolved:inactive
@@file:/etc/resolv.conf
# Generated by NetworkManager
search example.lan
nameserver 192.168.122.1
nameserver 192.168.122.2
nameserver 192.168.122.3
nameserver 192.168.122.4
"""


def test_ubuntu_before_kubeadm_passes_as_kubeadm_would_choose_resolveds_file():
    state = hp.parse_resolv(UBUNTU_STUB)
    assert hp.kubelet_resolv_conf(state)[0] == "/run/systemd/resolve/resolv.conf"
    assert hp.verdict_resolv(state) == ""


def test_kubelet_pointed_at_the_stub_fails():
    message = fails(hp.verdict_resolv, hp.parse_resolv(UBUNTU_STUB + STUB_CONFIG))
    assert "127.0.0.53" in message and "systemd-resolved stub" in message
    assert "resolvConf: /run/systemd/resolve/resolv.conf" in message
    assert hp.verdict_resolv(hp.parse_resolv(UBUNTU_STUB + KUBEADM_ON_UBUNTU)) == ""


def test_stub_without_resolved_running_fails():
    # resolved stopped, the stub link left behind: kubeadm picks /etc/resolv.conf.
    text = UBUNTU_STUB.replace("@@resolved:active", "@@resolved:inactive")
    fails(hp.verdict_resolv, hp.parse_resolv(text), match="only nameservers are loopback")


def test_no_nameserver_fails_and_debian_passes():
    empty = DEBIAN_RESOLV.replace("nameserver 192.0.2.53\n", "")
    fails(hp.verdict_resolv, hp.parse_resolv(empty), match="has no nameserver line")
    assert hp.verdict_resolv(hp.parse_resolv(DEBIAN_RESOLV)) == ""


def test_empty_resolvconf_reads_no_file():
    text = DEBIAN_RESOLV + KUBEADM_ON_UBUNTU.replace("/run/systemd/resolve/resolv.conf", '""')
    assert "reads no resolver file" in hp.verdict_resolv(hp.parse_resolv(text))


def test_four_nameservers_on_rocky_warn_three_pass():
    # kubelet: validation.MaxDNSNameservers = 3, as glibc's MAXNS.
    message = fails(hp.verdict_nameserver_count, hp.parse_resolv(ROCKY_RESOLV))
    assert "lists 4 nameservers" in message and "192.168.122.4" in message
    three = ROCKY_RESOLV.replace("nameserver 192.168.122.4\n", "")
    assert hp.verdict_nameserver_count(hp.parse_resolv(three)) == ""
    assert hp.verdict_resolv(hp.parse_resolv(ROCKY_RESOLV)) == ""
