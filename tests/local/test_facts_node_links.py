"""Where the links the facts name lead (the time zone's, the boot files', resolv.conf's),
from the one stat that reads the probed and the kubelet's files (kit/facts/gather.sh): no
readlink on the fake node, and readlink asked as before where that stat's answer is not
GNU stat's NAME -> TARGET."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.facts import parse_facts
from kit.facts.gather import script
from kit.facts.parse import split_sections
from tests.facts_compare import OLD_SCRIPT
from tests.local import fake_node
from tests.local.fake_node import run_scripts, started

# More of the node's links: the time zone's, a boot file's relative link (the node's
# 99-sysctl.conf) and an absolute one, one whose name and target hold a space, and a
# probed path (which the kubelet's config names too) that is a link.
LINKS = fake_node.LINKS | {
    "/etc/localtime": "/usr/share/zoneinfo/Europe/Paris",
    "/etc/sysctl.d/50-abs.conf": "/etc/sysctl.conf",
    "/etc/modules-load.d/k m.conf": "/etc/k m/real.conf",
    "/etc/kubernetes/pki/ca.crt": "real-ca.crt",
}
FILES = {
    "/etc/k m/real.conf": "br_netfilter\n",
    "/etc/kubernetes/pki/real-ca.crt": "-----BEGIN CERTIFICATE-----\n",
}
# The sections that print a link's target or a probed link's stat line.
_LINKED = ("timezone", "boot-files", "hostprep-resolv", "kubelet-files", "runtime-config")

# stat answering %N as busybox's does (coreutils/stat.c of busybox 1.35, whose
# `busybox stat -c %N` prints 'NAME' -> 'TARGET' for a link and NAME for any other
# file); the rest of its answer is GNU stat's, the next stat on PATH. This machine's stat
# is GNU's: busybox's shape cannot be had from it otherwise.
_BUSYBOX_STAT = r"""#!/usr/bin/env python3
import os, shutil, subprocess, sys
here = os.path.dirname(os.path.abspath(sys.argv[0]))
path = os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep) if d != here)
real = shutil.which("stat", path=path)
args = sys.argv[1:]
if args[:1] != ["--printf"] or "%N" not in args[1]:
    os.execv(real, [real, *args])
rc = 0
for name in args[args.index("--") + 1:]:
    shown = f"'{name}' -> '{os.readlink(name)}'" if os.path.islink(name) else name
    fmt = args[1].replace("%N", shown.replace("%", "%%"))
    done = subprocess.run([real, "--printf", fmt, "--", name], stdout=subprocess.PIPE)
    sys.stdout.buffer.write(done.stdout)
    rc = rc or done.returncode
sys.exit(rc)
"""


def _gather(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, links: dict[str, str], **node):
    """(the earlier script's sections, gather.sh's answer, the programs gather.sh
    started) on the fake node with these links."""
    monkeypatch.setattr(fake_node, "LINKS", links)
    old, new = run_scripts(
        tmp_path, [OLD_SCRIPT.read_text(), script()], files=FILES, traced=1, **node
    )
    programs = [p.split()[0] for p in started(tmp_path, 1)]
    return split_sections(old), new, programs


def _same(old: dict[str, str], answer: str) -> None:
    new = split_sections(answer)
    for name in _LINKED:
        assert new[name] == old[name], name
    # The same lines, those of absent files first.
    assert sorted(new["files"].splitlines()) == sorted(old["files"].splitlines())


def test_the_links_targets_come_from_the_files_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    old, new, programs = _gather(tmp_path, monkeypatch, LINKS)
    assert "readlink" not in programs, programs
    assert programs.count("stat") == 1, programs
    _same(old, new)
    facts = parse_facts(new)
    assert facts.timezone == "Europe/Paris"
    assert facts.boot_links["/etc/sysctl.d/99-sysctl.conf"] == "/etc/sysctl.conf"
    assert facts.boot_links["/etc/sysctl.d/50-abs.conf"] == "/etc/sysctl.conf"
    assert facts.boot_links["/etc/modules-load.d/k m.conf"] == "/etc/k m/real.conf"
    assert "@@link:/run/systemd/resolve/stub-resolv.conf" in split_sections(new)["hostprep-resolv"]
    # The probed link's line is the link's own, named as probed.
    assert (
        "777\troot\troot\tsymbolic link\t/etc/kubernetes/pki/ca.crt" in split_sections(new)["files"]
    )


def test_a_busybox_shaped_stat_has_readlink_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    old, new, programs = _gather(tmp_path, monkeypatch, LINKS, stubs={"stat": _BUSYBOX_STAT})
    assert "readlink" in programs, programs
    _same(old, new)


@pytest.mark.parametrize(
    "more",
    [
        {"/etc/sysctl.d/60-nl.conf": "a\nb.conf"},
        # The last link stat is asked of (resolv.conf, as root), its target's last newline
        # what a capture would drop from the answer's end.
        {"/etc/resolv.conf": "../run/systemd/resolve/stub-resolv.conf\n"},
    ],
    ids=["inside", "at-the-end"],
)
def test_a_target_holding_a_newline_has_readlink_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, more: dict[str, str]
):
    old, new, programs = _gather(tmp_path, monkeypatch, LINKS | more)
    assert "readlink" in programs, programs
    _same(old, new)
    # Its files' lines came from the one stat all the same.
    assert programs.count("stat") == 1, programs
