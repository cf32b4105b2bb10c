"""Check verdicts over recorded facts: each reaches its reference's verdict on the same host.

The recorded answers are Debian 12 (a real host) and hand-written Ubuntu 22.04 and
Rocky 9; a variant changes one section of a recording, as the host would show it.
Where a reference cannot run here, the test names the file and function it follows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hostkit_catalog.checks import test_kernel, test_network, test_system
from hostkit_catalog.remediations import packages
from kit.facts import parse_facts
from kit.facts.parse import split_sections
from kit.runner.swap import comment_swap_at_boot

DATA = Path(__file__).parent / "data" / "facts"


def raw(name: str) -> str:
    return (DATA / f"{name}.txt").read_text()


def load(name: str, **sections: str):
    """The recording, with the named sections (underscores for dashes) replaced."""
    parts = split_sections(raw(name))
    parts.update({k.replace("_", "-"): v for k, v in sections.items()})
    return parse_facts("".join(f"@@hostkit:{k}\n{v}\n" for k, v in parts.items()))


def fails(check, *args, match: str = "") -> str:
    with pytest.raises(AssertionError) as info:
        check(*args)
    assert match in str(info.value), str(info.value)
    return str(info.value)


def skips(check, *args, match: str | None = None) -> None:
    with pytest.raises(pytest.skip.Exception, match=match):
        check(*args)


# -- memory: kubeadm checks_linux.go MemCheck.Check -----------------------------------


def test_memory_compares_mebibytes_as_kubeadm_does():
    # MemCheck: Totalram*Unit/1024/1024 (MiB) < 1700 is an error. 1650 MiB is 1730 MB.
    facts = load("rocky9", meminfo="MemTotal:        1689600 kB")
    fails(test_system.test_memory, facts, "1700", match="1650 MiB of memory, need 1700 MiB")
    # 1700 MiB exactly is enough, as `actual < mc.Mem` is kubeadm's failure.
    test_system.test_memory(load("rocky9", meminfo="MemTotal: 1740800 kB"), "1700")
    test_system.test_memory(load("rocky9"), "1700")  # 1813244 kB: 1770 MiB


def test_unknown_memory_fails_with_a_message_not_a_type_error():
    facts = load("rocky9", meminfo="")
    fails(test_system.test_memory, facts, "1700", match="amount of memory is unknown")


def test_memory_is_a_control_plane_check_only():
    # InitNodeChecks has MemCheck; JoinNodeChecks (workers) does not.
    from kit.catalog import profile

    directory = Path(test_system.__file__).parent / "profiles"
    node = profile.load("kubernetes-node", directory)
    plane = profile.load("kubernetes-control-plane", directory)
    assert node.order_of("k8s.resources.memory") is None
    assert plane.order_of("k8s.resources.memory") is not None
    assert plane.values("min_memory_mib") == [(1700,)]


# -- built-in modules -----------------------------------------------------------------


def test_a_module_built_into_the_kernel_satisfies_the_module_check():
    facts = load("ubuntu2204")  # in modules.builtin, not in /proc/modules nor modules-load.d
    assert "crc32c_generic" not in facts.modules
    test_kernel.test_module_loaded(facts, "crc32c-generic")
    fails(test_kernel.test_module_loaded, facts, "xfs", match="not loaded now")


def test_unknown_builtins_do_not_pass_a_missing_module():
    facts = load("debian12")  # no /lib/modules on the recorded host: unknown
    assert facts.modules_builtin is None
    fails(test_kernel.test_module_loaded, facts, "br_netfilter", match="not loaded now")


# -- sysctls at boot: systemd-sysctl's order (sysctl.d(5), src/sysctl/sysctl.c) --------

DEBIAN_CONF_SETS_0 = """@@file:/etc/sysctl.d/99-hostkit.conf
net.ipv4.ip_forward = 1
@@link:/etc/sysctl.d/99-sysctl.conf\t/etc/sysctl.conf
@@file:/etc/sysctl.d/99-sysctl.conf
net.ipv4.ip_forward=0
@@file:/etc/sysctl.conf
net.ipv4.ip_forward=0
"""


def _ip_forward(facts, value="1"):
    sysctls = {**facts.sysctls, "net.ipv4.ip_forward": value}
    return dataclasses.replace(facts, sysctls=sysctls)


def test_debians_sysctl_conf_through_99_sysctl_conf_wins_over_99_hostkit():
    # "99-sysctl.conf" sorts after "99-hostkit.conf": its value is the one boot applies.
    facts = _ip_forward(load("debian12", boot_files=DEBIAN_CONF_SETS_0))
    message = fails(test_kernel.test_sysctl, facts, "net.ipv4.ip_forward", "1")
    assert "boot sets 0 (/etc/sysctl.d/99-sysctl.conf)" in message


def test_sysctl_conf_without_the_link_is_not_read_at_boot():
    # systemd-sysctl reads only the sysctl.d directories; the link is what brings it in.
    files = DEBIAN_CONF_SETS_0.replace(
        "@@link:/etc/sysctl.d/99-sysctl.conf\t/etc/sysctl.conf\n"
        "@@file:/etc/sysctl.d/99-sysctl.conf\nnet.ipv4.ip_forward=0\n",
        "",
    )
    test_kernel.test_sysctl(
        _ip_forward(load("debian12", boot_files=files)), "net.ipv4.ip_forward", "1"
    )


def test_a_dev_null_link_masks_the_file_of_that_name():
    files = (
        "@@file:/usr/lib/sysctl.d/50-k8s.conf\nnet.ipv4.ip_forward = 1\n"
        "@@link:/etc/sysctl.d/50-k8s.conf\t/dev/null\n"
    )
    facts = _ip_forward(load("debian12", boot_files=files))
    fails(test_kernel.test_sysctl, facts, "net.ipv4.ip_forward", "1", match="boot sets nothing")


def test_the_recorded_debian_host_reads_sysctl_conf_through_the_link():
    facts = load("debian12")
    assert facts.boot_links["/etc/sysctl.d/99-sysctl.conf"] == "/etc/sysctl.conf"


# -- thresholds -----------------------------------------------------------------------


def test_a_floor_is_met_by_a_higher_value_live_and_at_boot():
    key = "fs.inotify.max_user_watches"
    files = f"@@file:/etc/sysctl.d/60-watches.conf\n{key} = 1048576\n"
    facts = load("debian12", boot_files=files)
    facts = dataclasses.replace(facts, sysctls={**facts.sysctls, key: "1048576"})
    test_kernel.test_sysctl(facts, key, ">=524288")
    fails(test_kernel.test_sysctl, facts, key, "524288", match="is 1048576 now, want 524288")


def test_a_value_under_the_floor_fails_live_or_at_boot():
    key = "vm.max_map_count"
    facts = load("debian12", boot_files=f"@@file:/etc/sysctl.d/60-map.conf\n{key} = 65530\n")
    low = dataclasses.replace(facts, sysctls={**facts.sysctls, key: "65530"})
    fails(test_kernel.test_sysctl, low, key, ">=262144", match="want at least 262144")
    high = dataclasses.replace(facts, sysctls={**facts.sysctls, key: "262144"})
    fails(test_kernel.test_sysctl, high, key, ">=262144", match="boot sets 65530")


# -- swap at boot ---------------------------------------------------------------------


def test_ubuntus_swap_file_fails_until_fstab_and_units_are_dealt_with():
    facts = dataclasses.replace(load("ubuntu2204"), swaps=())
    fails(test_kernel.test_swap_off, facts, match="/etc/fstab turns swap on at boot: /swap.img")


def test_a_noauto_swap_line_does_not_count_and_the_fix_leaves_it():
    fstab = "/swap.img none swap sw,noauto 0 0\n/dev/sdb2 none swap sw 0 0\n"
    assert (
        comment_swap_at_boot(fstab)
        == "/swap.img none swap sw,noauto 0 0\n#/dev/sdb2 none swap sw 0 0\n"
    )
    facts = load("ubuntu2204", swaps="", swap_units="", boot_files=f"@@file:/etc/fstab\n{fstab}")
    fails(test_kernel.test_swap_off, facts, match="/dev/sdb2")
    facts = load(
        "ubuntu2204",
        swaps="",
        swap_units="",
        boot_files="@@file:/etc/fstab\n/swap.img none swap noauto 0 0\n",
    )
    test_kernel.test_swap_off(facts)


GPT_AUTO = "unit=/run/systemd/generator.late/swap.target.wants/dev-disk-by\\x2duuid-1234.swap"
BY_HAND = "unit=/etc/systemd/system/swap.target.wants/swapfile.swap"


@pytest.mark.parametrize("unit", [GPT_AUTO, BY_HAND])
def test_swap_units_come_back_at_boot_unless_swap_target_is_masked(unit):
    # GPT auto-swap (systemd-gpt-auto-generator) and enabled swap units have no fstab line.
    facts = load(
        "rocky9",
        swaps="",
        boot_files="@@file:/etc/fstab\n/dev/mapper/rl-root / xfs defaults 0 0\n",
        swap_units=unit,
    )
    fails(test_kernel.test_swap_off, facts, match="swap units come back at boot")
    masked = load(
        "rocky9",
        swaps="",
        boot_files="@@file:/etc/fstab\n",
        swap_units=unit,
        units="swap.target=masked",
    )
    test_kernel.test_swap_off(masked)


def test_zram_generator_makes_swap_unless_etc_hides_its_config():
    vendor = "@@file:/usr/lib/systemd/zram-generator.conf\n[zram0]\nzram-size = min(ram, 8192)\n"
    gen = "generator=/usr/lib/systemd/system-generators/zram-generator"
    facts = load("rocky9", swaps="", swap_units=gen, boot_files=vendor)
    fails(test_kernel.test_swap_off, facts, match="zram-generator makes swap at boot")
    # kubespray's swapoff task on Fedora: an empty /etc/systemd/zram-generator.conf.
    hidden = load(
        "rocky9",
        swaps="",
        swap_units=gen,
        boot_files="@@file:/etc/systemd/zram-generator.conf\n\n" + vendor,
    )
    test_kernel.test_swap_off(hidden)


# -- firewalld: kubeadm checks.go FirewalldCheck.Check looks at the running service ----


def test_firewalld_enabled_but_stopped_still_fails():
    facts = load("rocky9", procs="chronyd")
    assert facts.firewall != "firewalld"
    fails(test_network.test_firewalld_inactive, facts, match="stopped but enabled")
    fails(test_network.test_firewalld_inactive, load("rocky9"), match="firewalld is active")
    test_network.test_firewalld_inactive(load("ubuntu2204"))  # no firewalld unit
    gone = load("rocky9", procs="chronyd", units="firewalld.service=not-found")
    test_network.test_firewalld_inactive(gone)


# -- time sync ------------------------------------------------------------------------


def test_without_systemd_chronys_own_answer_is_read():
    facts = load("debian12", procs="chronyd", timesync="chrony-leap=Normal")
    test_system.test_time_synchronized(facts)
    facts = load("debian12", procs="chronyd", timesync="chrony-leap=Not synchronised")
    fails(test_system.test_time_synchronized, facts, match="not synchronised")


def test_without_systemd_or_chrony_the_state_is_unknown_not_unsynchronised():
    facts = load("debian12", procs="ntpd", timesync="")
    message = fails(test_system.test_time_synchronized, facts)
    assert "unknown" in message and "not synchronised" not in message


def test_without_d_bus_timesyncds_own_flag_file_gives_the_verdict():
    # timedatectl needs D-Bus and answers nothing on a minimal image without it;
    # systemd-timesyncd touches /run/systemd/timesync/synchronized once it has synchronised
    # the clock (timesyncd.c), which the gather reads.
    synced = load("debian12", procs="systemd-timesyn", timesync="timesyncd-synchronized=yes")
    test_system.test_time_synchronized(synced)
    waiting = load("debian12", procs="systemd-timesyn", timesync="timesyncd-synchronized=no")
    fails(
        test_system.test_time_synchronized,
        waiting,
        match="systemd-timesyncd runs but the clock is not synchronised",
    )


def test_ntpd_counts_as_a_time_daemon():
    facts = load("ubuntu2204", procs="ntpd", timesync="ntpsynchronized=yes")
    assert facts.time_sync.service == "ntpd"
    test_system.test_time_synchronized(facts)


# -- hostname: kubeadm checks.go HostnameCheck.Check, kubespray 0040-verify-settings ---


def _named(name: str):
    facts = load("debian12")
    return dataclasses.replace(facts, hostname=name, hostname_addresses=("192.0.2.2",))


def test_kubeadm_lowercases_the_name_and_allows_what_isqualifiedname_allows():
    for name in ("Node1", "node_1", "NODE-1.Example.com"):
        test_network.test_hostname(_named(name))
    for name in ("-node", "node-", "a/b/c", "x" * 64):
        fails(test_network.test_hostname, _named(name), match="invalid node name format")


def test_the_installers_rule_is_stricter_and_separate():
    test_network.test_hostname_installers(_named("node-1.example.com"))
    for name in ("Node1", "node_1", "node-"):
        fails(test_network.test_hostname_installers, _named(name), match="lowercase")


def test_hostname_checks_match_their_references_severity():
    meta = {
        m.args[0].id: m.args[0]
        for f in (test_network.test_hostname, test_network.test_hostname_installers)
        for m in f.pytestmark
        if m.name == "hostkit_check"
    }
    # HostnameCheck appends warnings only; kubespray's assert stops the play.
    assert meta["k8s.hostname.valid"].severity == "warning"
    assert meta["k8s.hostname.installers"].severity == "error"
    assert meta["k8s.hostname.installers"].fix is None


# -- cgroup v1: system-validators CgroupsValidator.Validate; kubelet failCgroupV1 ------


def test_cgroup_v1_is_a_warning_before_1_35_and_an_error_from_it():
    # The facts' one round trip carries the cgroup state: no connection is used. No
    # kubelet is installed: the profile's version decides.
    v1 = _with_kubelet(load("debian12", kernelprep_cgroup="@@fs\ntmpfs"), (127, ""))
    fails(test_system.test_cgroup_v2, None, v1, "1.34", match="maintenance mode")
    skips(test_system.test_cgroup_v2_required, None, v1, "1.34")
    fails(test_system.test_cgroup_v2_required, None, v1, "1.35", match="refuses to start")
    skips(test_system.test_cgroup_v2, None, v1, "v1.35.1")
    v2 = _with_kubelet(load("rocky9", kernelprep_cgroup="@@fs\ncgroup2fs"), (127, ""))
    test_system.test_cgroup_v2(None, v2, "1.34")
    test_system.test_cgroup_v2_required(None, v2, "1.35")


# -- package names per family; conntrack as kubeadm checks_linux.go addExecChecks -------


@pytest.mark.parametrize(
    ("recording", "executable", "package"),
    [
        ("debian12", "tc", "iproute2"),
        ("ubuntu2204", "tc", "iproute2"),
        ("rocky9", "tc", "iproute-tc"),
        ("rocky9", "ip", "iproute"),
        ("debian12", "conntrack", "conntrack"),
        ("rocky9", "conntrack", "conntrack-tools"),
        ("ubuntu2204", "ebtables", "ebtables"),
        ("rocky9", "ebtables", "iptables-ebtables"),
        ("ubuntu2204", "mount", "mount"),
        ("rocky9", "mount", "util-linux"),
    ],
)
def test_the_package_named_is_the_familys(recording, executable, package):
    facts = load(recording)
    assert packages.package_for(executable, facts) == package
    facts = dataclasses.replace(facts, executables={**facts.executables, executable: None})
    fails(
        test_system.test_executable_required, None, facts, executable, match=f"(package {package})"
    )


def test_conntrack_is_required_before_1_32_and_not_checked_from_it():
    facts = load("rocky9")
    facts = dataclasses.replace(facts, executables={**facts.executables, "conntrack": None})
    fails(test_system.test_executable_conntrack, None, facts, "1.31", match="conntrack-tools")
    skips(test_system.test_executable_conntrack, None, facts, "1.32")


def test_profiles_list_ebtables_as_kubeadm_recommends_it():
    from kit.catalog import profile

    node = profile.load("kubernetes-node", Path(test_system.__file__).parent / "profiles")
    assert ("ebtables",) in node.values("executables_recommended")
    assert ("conntrack",) not in node.values("executables_recommended")


# -- references -----------------------------------------------------------------------


def test_every_reference_names_the_file_it_follows():
    from kit.catalog import describe as catalog

    metas = catalog.checks(catalog.ROOT / "checks")
    for meta in metas:
        assert meta.refs, meta.id
        for source, cited in meta.refs.items():
            if source == "kubeadm":
                assert ".go" in cited, (meta.id, cited)
            if source == "kubespray":
                assert cited.startswith("roles/") and ".yml" in cited, (meta.id, cited)
    module = next(m for m in metas if m.id == "k8s.kernel.module")
    # SystemVerification checks kernel config options, not loaded modules.
    assert "SystemVerification" not in str(module.refs)


# -- cgroup v1 by the installed kubelet: system-validators v1.12.1 CgroupsValidator ------
# (kubernetes/kubernetes#134744): an error when the KubeletVersion kubeadm passes is 1.35
# or newer, a warning before; kubeadm passes the installed kubelet's version, and on
# upgrade its minor + 1. With no kubelet installed the profile's version decides.


def _with_kubelet(facts, answer):
    from kit.facts.model import Runtime

    return dataclasses.replace(facts, runtime=Runtime(kubelet_version=answer))


V1 = "@@fs\ntmpfs"


def _fails(check, *args, match: str) -> None:
    # A check that skips where it should fail is a wrong verdict, not a skipped test.
    try:
        fails(check, *args, match=match)
    except pytest.skip.Exception as skipped:
        pytest.fail(f"skipped where it should fail: {skipped}")


@pytest.mark.parametrize(
    ("kubelet", "profile", "judged"),
    [
        ("Kubernetes v1.35.0", "1.34", "1.35"),  # the installed kubelet, not the profile
        ("Kubernetes v1.34.2", "1.34", "1.34"),
        ("Kubernetes v1.34.2", "1.35", "1.35"),  # an upgrade: kubelet + 1
        ("Kubernetes v1.33.1", "1.35", "1.34"),  # an upgrade goes one minor at a time
    ],
)
def test_cgroup_v1_is_judged_by_the_installed_kubelet(kubelet, profile, judged):
    v1 = _with_kubelet(load("debian12", kernelprep_cgroup=V1), (0, kubelet + "\n"))
    if judged == "1.35":
        _fails(test_system.test_cgroup_v2_required, None, v1, profile, match="refuses to start")
        skips(test_system.test_cgroup_v2, None, v1, profile, match=judged)
    else:
        _fails(test_system.test_cgroup_v2, None, v1, profile, match="maintenance mode")
        skips(test_system.test_cgroup_v2_required, None, v1, profile, match=judged)


def test_cgroup_v1_without_a_kubelet_is_judged_by_the_profile():
    v1 = _with_kubelet(load("debian12", kernelprep_cgroup=V1), (127, ""))
    fails(test_system.test_cgroup_v2_required, None, v1, "1.35", match="no kubelet installed")
    fails(test_system.test_cgroup_v2, None, v1, "1.34", match="maintenance mode")


def test_the_kubelet_upper_skew_is_checked_on_init_only():
    # checks.go: JoinNodeChecks passes addCommonChecks an empty Kubernetes version, so
    # KubeletVersionCheck checks the minimum only; InitNodeChecks passes cfg's version.
    from hostkit_catalog.checks import test_runtime

    newer = _with_kubelet(load("debian12"), (0, "Kubernetes v1.36.0\n"))
    test_runtime.test_kubelet_version(None, newer, "1.35")
    fails(test_runtime.test_kubelet_version_init, None, newer, "1.35", match="newer than")
    old = _with_kubelet(load("debian12"), (0, "Kubernetes v1.31.0\n"))
    fails(test_runtime.test_kubelet_version, None, old, "1.35", match="lower than")
    from kit.catalog import profile

    directory = Path(test_system.__file__).parent / "profiles"
    init = profile.load("kubernetes-preflight-control-plane", directory)
    assert init.order_of("k8s.kubelet-version.init") is not None
    for name in ("kubernetes-node", "kubernetes-preflight-worker", "kubernetes-control-plane"):
        assert profile.load(name, directory).order_of("k8s.kubelet-version.init") is None
