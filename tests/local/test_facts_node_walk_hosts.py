"""The facts gather on the fake node (see fake_node) without two programs: the kubelet's
--config-dir drop-ins listed by the shell where find listed them, and the host name's
addresses read from /etc/hosts where Go's resolver, which kubeadm's HostnameCheck asks,
reads them there and getent answered."""

from __future__ import annotations

import shlex
import socket
from pathlib import Path

import pytest

from kit.facts import Facts, parse_facts
from kit.facts.gather import script
from remediations import kubelet as kfix
from tests.facts_compare import OLD_SCRIPT, differences
from tests.local.fake_node import FILES, run_scripts, started

DIR = "/etc/kubernetes/kubelet.conf.d"
UNIT = "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"
# A --config-dir tree with what find's walk has rules for: nested and hidden directories,
# hidden files, a directory whose name ends in .conf, a name with a space, links (to a
# directory, to a file, to nothing), a directory the gather cannot read.
TREE = {
    f"{DIR}/sub/deeper/40-c.conf": "c: 3\n",
    f"{DIR}/.hidden.conf": "h: 1\n",
    f"{DIR}/.hid/50-d.conf": "d: 4\n",
    f"{DIR}/dir.conf/60-e.conf": "e: 5\n",
    f"{DIR}/with space.conf": "s: 6\n",
    f"{DIR}/notes.txt": "not a drop-in\n",
    f"{DIR}/.conf": "dot: 7\n",
    f"{DIR}/locked/90-h.conf": "locked: 8\n",
}
# Made in the node before each script (files= writes only files); idempotent, as a traced
# run repeats every script.
LINKS = (
    f'd={DIR}\n[ -L "$d/linkdir.conf" ] || {{ ln -s sub "$d/linkdir.conf"; '
    'ln -s ../20-a.conf "$d/sub/70-f.conf"; ln -s nowhere "$d/80-g.conf"; '
    'chmod 000 "$d/locked"; }\n'
)
# Root without the capabilities that let it read any directory: locked/ is unreadable to
# the gather as to find (setpriv's process and its children keep neither).
DROP = "setpriv --bounding-set=-dac_override,-dac_read_search -- "


def _unit(config_dir: str) -> dict[str, str]:
    return {UNIT: FILES[UNIT].replace(f"--config-dir {DIR}", f"--config-dir {config_dir}")}


def _dir_line(answer: str) -> list[str]:
    """The words of the gather's `@@hostkit-kubelet-dir` line after the directory."""
    (line,) = (x for x in answer.splitlines() if x.startswith("@@hostkit-kubelet-dir "))
    return line.split()[2:]


@pytest.mark.parametrize(
    ("shell", "config_dir"),
    [
        ("sh", DIR),
        ("sh", f"{DIR}/"),
        ("sh", "/etc/kubernetes//kubelet.conf.d"),
        ("bash --posix", DIR),
        ("busybox ash", DIR),
    ],
)
def test_the_config_dir_drop_ins_are_what_find_lists(tmp_path: Path, shell: str, config_dir: str):
    """The same paths find prints for "$d"/ (its spelling of them: a --config-dir with a
    trailing slash gives two), without find."""
    gather = LINKS + DROP + f"{shell} -c {shlex.quote(script())} hostkit-facts " + '"$@"'
    # find fails for the unreadable directory: the node's run stops at a failing last script.
    find = LINKS + DROP + f"find {shlex.quote(config_dir)}/ ! -type d -name '*.conf' 2>/dev/null\n:"
    answer, listed = run_scripts(tmp_path, [gather, find], files=TREE | _unit(config_dir), traced=0)
    programs = [p.split()[0] for p in started(tmp_path, 0)]
    assert "find" not in programs, programs
    # find's lines split into words, as the gather splits them (a name with a space is two).
    assert sorted(_dir_line(answer)) == sorted(listed.split())
    # What find lists here, spelled as it spells it: links not followed, hidden names and
    # a name that is only ".conf" in, nothing from the unreadable directory.
    prefix = f"{config_dir}/"
    names = {w.removeprefix(prefix) for w in listed.split()}
    assert names == {
        "20-a.conf",
        "sub/30-b.conf",
        "sub/deeper/40-c.conf",
        "sub/70-f.conf",
        ".hidden.conf",
        ".hid/50-d.conf",
        "dir.conf/60-e.conf",
        "with",
        "space.conf",
        ".conf",
        "linkdir.conf",
        "80-g.conf",
    }, listed


def test_find_is_asked_where_a_directory_lists_names_it_cannot_search(tmp_path: Path):
    """A directory the gather may read but not search (r--): find lists its entries by the
    types the listing gives; the shell cannot tell a file from a directory there."""
    lock = LINKS + f'chmod 444 "{DIR}/listonly"\n'
    gather = lock + DROP + f"sh -c {shlex.quote(script())} hostkit-facts " + '"$@"'
    find = lock + DROP + f"find {DIR}/ ! -type d -name '*.conf' 2>/dev/null\n:"
    tree = TREE | {f"{DIR}/listonly/95-i.conf": "i: 9\n", f"{DIR}/listonly/in/96.conf": ""}
    answer, listed = run_scripts(tmp_path, [gather, find], files=tree, traced=0)
    programs = [p.split()[0] for p in started(tmp_path, 0)]
    assert "find" in programs, programs
    assert f"{DIR}/listonly/95-i.conf" in listed.split()
    assert sorted(_dir_line(answer)) == sorted(listed.split())


def test_the_config_dir_drop_ins_say_what_the_earlier_script_said(tmp_path: Path):
    """Every fact of the node with that tree (as root: locked/ is read) is the earlier
    script's, which listed it with find; the kubelet's dump holds the drop-ins in its own
    order (the shell's, sorted; find's is the directory's), which every reader sorts."""
    old, new, again = run_scripts(
        tmp_path,
        [LINKS + OLD_SCRIPT.read_text(), LINKS + script(), LINKS + OLD_SCRIPT.read_text()],
        files=TREE,
    )
    facts = [parse_facts(text) for text in (old, new, again)]
    assert sorted(_dir_line(new)) == sorted(_dir_line(old))
    assert f"{DIR}/locked/90-h.conf" in _dir_line(new)
    assert _differences_but_the_dump_order(*facts) == []


def _differences_but_the_dump_order(old: Facts, new: Facts, again: Facts) -> list[str]:
    """differences() of the facts, the kubelet's dump compared as what its readers take
    from it (its drop-in records come in another order: find's is the directory's)."""
    a, b = old.kubelet_files, new.kubelet_files
    assert a is not None and b is not None and a.dump is not None and b.dump is not None
    assert a.show == b.show
    assert kfix.parse_dump(a.dump) == kfix.parse_dump(b.dump)
    dirs = [
        {k: sorted(v or []) for k, v in kfix.parse_dirs(dump).items()} for dump in (a.dump, b.dump)
    ]
    assert dirs[0] == dirs[1]
    assert kfix.parse_process(a.dump) == kfix.parse_process(b.dump)
    assert kfix.parse_metrics(a.dump) == kfix.parse_metrics(b.dump)
    return [x for x in differences(old, new, again) if not x.startswith("kubelet_files.dump:")]


# -- the host name's addresses --------------------------------------------------------------

NAME = socket.gethostname()  # the fake node's: it has no UTS namespace of its own
FILES_FIRST = "passwd: files\nhosts:          files dns\n"
SHELLS = ["sh", "bash --posix", "busybox ash"]


def _hosts(
    tmp_path: Path, hosts: str, nsswitch: str, shell: str = "sh"
) -> tuple[list[str], tuple, tuple]:
    """(programs the gather started, its addresses, the earlier script's (getent's)) on
    the fake node with those /etc/hosts and /etc/nsswitch.conf, the gather run by shell."""
    files = {"/etc/hosts": hosts, "/etc/nsswitch.conf": nsswitch}
    gather = script() if shell == "sh" else f"exec {shell} -c {shlex.quote(script())} sh " + '"$@"'
    old, new = run_scripts(tmp_path, [OLD_SCRIPT.read_text(), gather], files=files, traced=1)
    programs = [p.split()[0] for p in started(tmp_path, 1)]
    return programs, parse_facts(new).hostname_addresses, parse_facts(old).hostname_addresses


@pytest.mark.parametrize("shell", SHELLS)
def test_the_host_name_addresses_are_every_hosts_line_naming_it(tmp_path: Path, shell: str):
    """Go's net/hosts.go: comments cut, blanks split, every line naming the host, an IPv6
    one too (getent asks for IPv6 first and printed only that), a line whose address does
    not parse left out."""
    hosts = (
        "127.0.0.1 localhost\n"
        f"# 10.0.0.9 {NAME}\n"
        f"10.0.0.1\t{NAME} {NAME}.example   # the node\n"
        f"10.0.0.2 other # {NAME}\n"
        f"fd00::1 {NAME}.example {NAME}\n"
        f"not-an-address {NAME}\n"
        f"10.0.0.3  other2\t{NAME}"
    )
    programs, addresses, _ = _hosts(tmp_path, hosts, FILES_FIRST, shell)
    assert "getent" not in programs, programs
    assert addresses == ("10.0.0.1", "fd00::1", "10.0.0.3")


@pytest.mark.parametrize("shell", SHELLS)
def test_the_ipv6_addresses_go_prints_as_written_are_read(tmp_path: Path, shell: str):
    """Addresses in netip.Addr.String's form: the first longest run of two zero groups or
    more as "::" (RFC 5952), a single zero group written out."""
    written = ["::", "::1", "1::", "1::2:0:0:3", "1:0:0:2::3", "1::2:3:4:0:0", "1:2:3:4:5:6:0:8"]
    hosts = "".join(f"{a} {NAME}\n" for a in [*written, "2001:db8::a:1"])
    programs, addresses, _ = _hosts(tmp_path, hosts, FILES_FIRST, shell)
    assert "getent" not in programs, programs
    assert addresses == (*written, "2001:db8::a:1")


def test_the_host_name_lines_are_in_getents_shape(tmp_path: Path):
    """The section's text is getent's where getent reads the same single line."""
    hosts = f"127.0.0.1 localhost\n10.0.0.1 {NAME} {NAME}.example\n"
    files = {"/etc/hosts": hosts, "/etc/nsswitch.conf": FILES_FIRST}
    old, new = run_scripts(tmp_path, [OLD_SCRIPT.read_text(), script()], files=files)
    part = [
        text.partition("@@hostkit:hostname-addresses\n")[2].partition("\n@@")[0]
        for text in (old, new)
    ]
    assert part[1] == part[0] == f"10.0.0.1        {NAME} {NAME}.example\n"


@pytest.mark.parametrize(
    ("hosts", "nsswitch"),
    [
        (f"10.0.0.1 {NAME}\n", "hosts: dns files\n"),
        (f"10.0.0.1 {NAME}\n", "hosts: files dns\nhosts: dns\n"),
        (f"10.0.0.1 {NAME}\n", "passwd: files\n"),
        (f"10.0.0.1 {NAME}-other\n127.0.0.1 localhost\n", FILES_FIRST),
        (f"10.0.0.1 {NAME}\n10.0.0.2 {NAME.upper()}\n", FILES_FIRST),
        (f"10.0.0.1 {NAME}\n10.0.0.2 {NAME}.\n", FILES_FIRST),
        (f"10.0.0.01 {NAME}\n", FILES_FIRST),
        (f"fd00:0::1 {NAME}\n", FILES_FIRST),
        (f"fd00:0:0:0:0:0:0:1 {NAME}\n", FILES_FIRST),
        (f"0::1 {NAME}\n", FILES_FIRST),
        (f"::ffff:a00:1 {NAME}\n", FILES_FIRST),
        (f"fe80::1%lo {NAME}\n", FILES_FIRST),
        (f"1:0:0:2:3:4:: {NAME}\n", FILES_FIRST),
        (f"10.0.0.1 {NAME}\n10.0.0.2 {NAME}\r\n", FILES_FIRST),
    ],
    ids=[
        "dns-first",
        "two-hosts-lines",
        "no-hosts-line",
        "name-absent",
        "other-case",
        "trailing-dot",
        "leading-zero",
        "ipv6-zero-group",
        "ipv6-uncompressed",
        "ipv6-run-not-compressed",
        "ipv4-mapped",
        "zone",
        "ipv6-tie-not-first",
        "carriage-return",
    ],
)
def test_getent_is_asked_where_the_shell_cannot_be_sure(tmp_path: Path, hosts: str, nsswitch: str):
    """Where Go's resolver would not read /etc/hosts first, the file does not name the host,
    or names it in a spelling Go reads otherwise (another case, a trailing dot, an address
    it prints differently), getent answers as before."""
    programs, addresses, old = _hosts(tmp_path, hosts, nsswitch)
    assert "getent" in programs, programs
    assert addresses == old


@pytest.mark.parametrize("shell", SHELLS[1:])
@pytest.mark.parametrize(
    "hosts",
    [
        f"10.0.0.1 {NAME}\n10.0.0.2 {NAME.upper()}\n",
        f"10.0.0.1 {NAME}\n10.0.0.2 {NAME}.\n",
        f"0::1 {NAME}\n",
        f"10.0.0.1 {NAME}\n10.0.0.2 {NAME}\r\n",
    ],
    ids=["other-case", "trailing-dot", "ipv6-run-not-compressed", "carriage-return"],
)
def test_getent_is_asked_in_each_shell(tmp_path: Path, hosts: str, shell: str):
    """The spellings Go reads otherwise, told apart by bash --posix and busybox ash too."""
    programs, addresses, old = _hosts(tmp_path, hosts, FILES_FIRST, shell)
    assert "getent" in programs, programs
    assert addresses == old
