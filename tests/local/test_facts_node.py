"""The facts script on a Kubernetes node under systemd (faked: see fake_node), compared
with the earlier script, section by section, and the processes it starts there."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kit.facts import parse_facts
from kit.facts.gather import script
from kit.facts.parse import split_sections
from tests.facts_compare import OLD_SCRIPT, differences
from tests.local.fake_node import SYSTEMCTL, counts, run_scripts, started

# Sections whose text changes between two reads of this machine; their facts are
# compared through differences(), which leaves out what changed between the old runs.
_MOVING = {"sysctls", "kernelprep-df", "net-tcp", "net-tcp6", "net-udp", "net-udp6"}
# Sections the script no longer prints, their facts now read from another section (the
# empty sysctls come from the one pass over /proc/sys): compared through differences().
_FOLDED = {"kernelprep-sysctl-empty"}
# The unit file states come from systemctl show now, which says "not-found" for a unit
# systemd does not know whatever its version; an older is-enabled printed nothing for
# it. The parser leaves out both: under older systemd the section's text differs, not
# its facts (unit_states, compared through differences()).
_OLD_SYSTEMD_TEXT = {"units"}
# Programs not asked where an earlier answer already says the fact their text gives: the
# rules of iptables where nft's name the firewall (parse.parse_firewall reads no further).
_UNASKED = {"iptables"}


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
        if name in _MOVING | _FOLDED | _UNASKED or a.get(name) != c.get(name):
            continue
        if old_systemd and name in _OLD_SYSTEMD_TEXT:
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


def test_processes_of_a_node_gather(tmp_path: Path):
    run_scripts(tmp_path, [":", OLD_SCRIPT.read_text(), script()], traced=2)
    empty, before, after = counts(tmp_path, 3)
    programs = started(tmp_path, 2)
    print(f"node gather (root, systemd, kubelet, containerd): {after} processes; before: {before}")
    print("\n".join(programs))
    assert empty == 0
    # strace saw what the count saw: the list names the processes counted.
    assert len(programs) == after, programs
    # Issue 24 asks for 15. What the node's facts still need a program for, each once:
    # nft, ip, timedatectl, systemctl show, paste of /proc/sys, dpkg-query, gzip of
    # /proc/config.gz, df, timeout and its sub-shell (which becomes the kubelet),
    # containerd, ctr, ss, paste -z of the kubelet's and kube-proxy's command lines (NULs,
    # which no shell reads), stat (which says where the links lead too). Not asked here:
    # iptables (nft's rules name the firewall), chronyc (no chronyd to answer), readlink
    # (stat's answer held the links' targets), getent (the node's /etc/hosts names its
    # host name and nsswitch.conf reads files first: the shell reads it), find (the shell
    # walks --config-dir), systemctl is-enabled of ntp.service (an init script without a
    # unit file: Debian's systemd-sysv-install, whose rc links the shell reads), ufw (nft
    # names no ufw chain and no legacy table is loaded: "Status: inactive").
    assert after <= 15, "\n".join([f"{after} processes:", *programs])


def _node(tmp_path: Path, **node) -> tuple[list[str], list[str]]:
    """(the programs the gather started, the differences of its facts from the earlier
    script's) on the fake node as node changes it."""
    old, new, again = run_scripts(
        tmp_path, [OLD_SCRIPT.read_text(), script(), OLD_SCRIPT.read_text()], traced=1, **node
    )
    facts = [parse_facts(text) for text in (old, new, again)]
    return [p.split()[0] for p in started(tmp_path, 1)], differences(*facts)


@pytest.mark.parametrize(
    ("node", "asked", "leap"),
    [
        ({}, False, None),
        ({"procs": ("chronyd",)}, True, "Normal"),
        # chronyd's command port, which a chronyd of another pid namespace may hold.
        ({"udp": (323,)}, True, None),
    ],
    ids=["no-chronyd", "chronyd", "port-323"],
)
def test_chronyc_is_asked_where_a_chronyd_may_answer(
    tmp_path: Path, node: dict, asked: bool, leap: str | None
):
    programs, differing = _node(tmp_path, **node)
    assert differing == []
    assert ("chronyc" in programs) == asked, programs
    (answer,) = run_scripts(tmp_path, [script()], **node)
    assert parse_facts(answer).time_sync.chrony_leap == leap


@pytest.mark.parametrize(("hidepid", "asked"), [(True, True), (False, False)])
def test_chronyc_is_asked_where_proc_hides_processes_from_the_login(
    tmp_path: Path, hidepid: bool, asked: bool
):
    """A login that /proc hides other users' processes from (hidepid) cannot tell that no
    chronyd runs: chronyc is asked."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv runs the gather as another user")
    (tmp_path / "gather.sh").write_text(script())
    remount = "mount -o remount,hidepid=2 /proc && " if hidepid else ""
    # The stubs where that user may run them: the node's own /run.
    as_nobody = (
        'cp -r "$HK_WORK/bin" /run/hk-bin && chmod -R a+rx /run/hk-bin && PATH="/run/hk-bin:$PATH" '
        f"&& {remount}exec setpriv --reuid=65534 --regid=65534 --clear-groups "
        f'dash -c "$(cat {tmp_path}/gather.sh)" hostkit-facts "$@"'
    )
    (answer,) = run_scripts(tmp_path, [as_nobody], traced=0)
    assert "@@hostkit:end" in answer
    programs = [p.split()[0] for p in started(tmp_path, 0)]
    assert ("chronyc" in programs) == asked, programs


_IPTABLES_NFT = (
    "#!/bin/sh\nprintf 'table ip filter {\\n\\tchain INPUT {\\n"
    "\\t\\tcounter accept\\n\\t}\\n}\\n'\n"
)
# Lines Python splits where the shell does not (a vertical tab): the shell cannot tell
# which table the rule after them is in, and asks iptables (Python reads a rule, "x {", in
# inet hk).
_ODD_LINE = (
    "#!/bin/sh\nprintf 'table inet hk {\\n\\tchain\\vx {\\n}\\n"
    "table\\vip filter {\\n\\tcounter accept\\n}\\n'\n"
)


@pytest.mark.parametrize(
    ("node", "asked", "firewall"),
    [
        ({}, {"nft"}, "nftables"),
        ({"stubs": {"nft": _IPTABLES_NFT}}, {"nft", "iptables"}, "iptables"),
        ({"stubs": {"nft": _ODD_LINE}}, {"nft", "iptables"}, "nftables"),
        ({"procs": ("firewalld",)}, set(), "firewalld"),
        ({"files": {"/etc/ufw/ufw.conf": "ENABLED=yes\n"}}, set(), "ufw"),
        ({"files": {"/etc/ufw/ufw.conf": "ENABLED=no\n"}}, {"nft"}, "nftables"),
    ],
    ids=["nft-rules", "iptables-nft-only", "odd-line", "firewalld", "ufw-enabled", "ufw-off"],
)
def test_the_firewall_programs_are_asked_until_one_names_the_firewall(
    tmp_path: Path, node: dict, asked: set[str], firewall: str
):
    programs, differing = _node(tmp_path, **node)
    assert differing == []
    assert {"nft", "iptables"} & set(programs) == asked, programs
    (answer,) = run_scripts(tmp_path, [script()], **node)
    assert parse_facts(answer).firewall == firewall


_KUBELET = b"/usr/bin/kubelet\0--config=/etc/kubernetes/kubelet-config.yaml\0--v=2\0"
_PROXY = b"/usr/local/bin/kube-proxy\0--config=/var/lib/kube-proxy/config.conf\0"


def _as_tr_read_it(raw: bytes) -> str:
    """A command line as `$(tr '\\000' '\\n' <FILE)` holds it: its last newlines dropped."""
    return raw.replace(b"\0", b"\n").decode().rstrip("\n")


@pytest.mark.parametrize(
    ("cmdlines", "trs"),
    [
        ({}, 0),
        # An empty argument, one holding a newline, one ending in newlines (which a capture
        # drops, as it did from tr's answer).
        ({"kubelet": b"/usr/bin/kubelet\0\0--config=/etc/k.yaml\0a\nb\0c\n\n\0"}, 0),
        ({"kube-proxy": b"kube-proxy\0@@x\0\n\0"}, 0),
        # A command line without its last NUL (a process that rewrote it).
        ({"kubelet": b"/usr/bin/kubelet --v=2"}, 0),
        # Nothing to read (an exited process's): paste's answer has no second part, and tr
        # reads each, as before.
        ({"kube-proxy": b""}, 2),
    ],
    ids=["node", "odd-arguments", "proxy-newline", "no-last-nul", "empty"],
)
def test_the_command_lines_read_as_tr_read_them(
    tmp_path: Path, cmdlines: dict[str, bytes], trs: int
):
    """One paste -z reads the kubelet's and kube-proxy's command lines, where each had
    its tr: the dump holds what tr's answers held."""
    (new,) = run_scripts(tmp_path, [script()], traced=0, cmdlines=cmdlines)
    dump = split_sections(new)["kubelet-files"]
    kubelet = _as_tr_read_it(cmdlines.get("kubelet", _KUBELET))
    proxy = _as_tr_read_it(cmdlines.get("kube-proxy", _PROXY))
    assert f" kubelet\n{kubelet}\n\n@@hostkit-kubelet-proc " in dump
    # The dump's last newlines are dropped, an empty command line's with them.
    assert f" kube-proxy\n{proxy + chr(10) if proxy else ''}@@hostkit-kubelet-metrics " in dump
    asked = [p.split()[0] for p in started(tmp_path, 0)]
    assert asked.count("tr") == trs, asked
    assert asked.count("paste") == 2, asked  # /proc/sys's and the command lines'


# ntp.service with a unit file of its own beside its init script (Debian's packages ship
# both): systemctl answers is-enabled from the unit file, as show does.
_NATIVE_NTP = SYSTEMCTL.replace(
    "NATIVE = {\n", 'NATIVE = {\n    "ntp.service": ("disabled", "ntp.service"),\n'
).replace(
    "PROPS = {\n",
    'PROPS = {\n    "ntp.service": {"FragmentPath": "/usr/lib/systemd/system/ntp.service"},\n',
)


# ntp.service with its init script alone (the shell reads the rc links as Debian's
# systemd-sysv-install does: no link here) or with a unit file (show answers): is-enabled
# starts for neither. test_facts_node_sysv_ufw has the other cases, and the ones where
# systemctl is asked.
@pytest.mark.parametrize(
    "stubs", [{}, {"systemctl": _NATIVE_NTP}], ids=["init-script", "unit-file"]
)
def test_is_enabled_is_not_started_for_an_init_scripts_unit(tmp_path: Path, stubs: dict[str, str]):
    old, new = run_scripts(tmp_path, [OLD_SCRIPT.read_text(), script()], traced=1, stubs=stubs)
    assert split_sections(new)["units"] == split_sections(old)["units"]
    assert "ntp.service=disabled" in split_sections(new)["units"]
    # The stub is python3 SCRIPT VERB... (its path may be cut short in the trace).
    programs = [p.split()[2] for p in started(tmp_path, 1) if p.startswith("python3 ")]
    assert "is-enabled" not in programs, programs


@pytest.mark.parametrize("bus", [True, False], ids=["d-bus", "no-bus"])
def test_timedatectl_is_asked_where_a_system_bus_is(tmp_path: Path, bus: bool):
    """Minimal images lack D-Bus (issue 23): timedatectl, which asks timedated through it,
    is not started there, and the facts say what its failure said."""
    programs, differing = _node(tmp_path, bus=bus)
    assert differing == []
    assert ("timedatectl" in programs) == bus, programs
    (answer,) = run_scripts(tmp_path, [script()], bus=bus)
    assert parse_facts(answer).time_sync.synchronized is (True if bus else None)
