"""Where the boot files' links lead (kit/facts/gather.sh), worked out by the shell from one
plain readlink, against the earlier script's readlink -f, in a mount namespace of its own
whose /etc/sysctl.d holds links of every kind readlink -f resolves."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from kit.facts import parse_facts
from kit.facts.gather import script
from tests.facts_compare import OLD_SCRIPT

LINKS = {
    "a.conf": "../sysctl.conf",
    "b.conf": "/dev/null",
    "c.conf": "d.conf",  # a link to a link
    "d.conf": "/etc/sysctl.d/sub/../h.conf",
    "e.conf": "missing.conf",  # leads nowhere, in a directory that is
    "f.conf": "/nonexistent/x.conf",  # in a directory that is not
    "g.conf": "sub/../h.conf",
    "i.conf": "dirlink/j.conf",  # through a link to a directory
    "k.conf": "sub/",
    "l.conf": ".",
    "m.conf": "sub/..",
    "n.conf": "h.conf/",  # a file is no directory
    "o.conf": "dirlink/../h.conf",
    "p space.conf": "./h.conf",
}
SETUP = "\n".join(
    [
        "set -e",
        "mount -t tmpfs tmpfs /etc/sysctl.d",
        "cd /etc/sysctl.d",
        "mkdir sub realdir",
        "echo x=1 >h.conf",
        "ln -s realdir dirlink",
        *(f"ln -s '{target}' '{name}'" for name, target in LINKS.items()),
        "cd /",
    ]
)


def answer(text: str) -> str:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a mount namespace of its own needs root and unshare")
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", f'{SETUP}\nexec sh -c "$0" hostkit-facts', text],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def test_each_link_leads_where_readlink_f_said():
    old, new = (parse_facts(answer(t)) for t in (OLD_SCRIPT.read_text(), script()))
    links = {k: v for k, v in new.boot_links.items() if k.startswith("/etc/sysctl.d/")}
    assert len(links) == len(LINKS)
    assert dict(new.boot_links) == dict(old.boot_links)
    assert new.timezone == old.timezone
    assert dict(new.boot_files) == dict(old.boot_files)
