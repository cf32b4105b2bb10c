"""The catalog through nsenter:// into a disposable systemd-nspawn container, as a hostPID
pod runs it on its node: a check that fails there, a --fix that repairs it, a re-check
that passes through nsenter:// and through the container's own sshd, and this machine's
/etc and /proc/sys as they were. Its run record is the container's: `kit.runs` lists it
and undoes it through nsenter:// too, and the check fails again."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.hosts import compliance

pytestmark = pytest.mark.hosts

# nspawn mounts /proc/sys read-only: the scenario is a file the fix edits, /etc/hosts,
# as test_catalog_scenarios.py's container scenario has it. A warning check: --strict.
SELECT = "test_hostname"
STRICT = "--strict"
# What the fix writes and where its record and lock go: none of it on this machine.
WATCHED = ("/etc/hosts", "/etc/hostname", "/etc/sysctl.d", "/var/lib/hostkit", "/run/hostkit")
LIVE = ("/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/bridge", "/proc/sys/vm/swappiness")


@dataclass(frozen=True)
class Entered:
    """The container as compliance.run takes a host, reached through nsenter://."""

    leader: int
    # The fleet's SSH options: compliance.run passes them, and an nsenter:// host ignores
    # them, as in a run whose --hosts mixes both.
    connect_options: dict[str, Any]

    @property
    def spec(self) -> str:
        return f"nsenter://{self.leader}"


def leader_of(pid: int) -> int:
    """The container's pid 1 (its systemd), a descendant of its launcher pid."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    todo = [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        nspid = next((ln.split()[1:] for ln in status.splitlines() if ln.startswith("NSpid:")), [])
        if len(nspid) > 1 and nspid[-1] == "1":
            return current
        todo += children.get(current, [])
    raise AssertionError(f"no container leader under pid {pid}")


def this_machine() -> dict[str, str]:
    """A digest of every watched file of this machine and every live value watched."""
    seen: dict[str, str] = {}
    for top in WATCHED:
        root = Path(top)
        paths = [root, *sorted(root.rglob("*"))] if root.is_dir() else [root]
        for path in paths:
            if path.is_file() and not path.is_symlink():
                seen[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                seen[str(path)] = (
                    "dir" if path.is_dir() else ("absent" if not path.exists() else "")
                )
    for top in LIVE:
        root = Path(top)
        for path in [root, *sorted(root.rglob("*"))] if root.is_dir() else [root]:
            if path.is_file():
                try:
                    seen[str(path)] = path.read_text()
                except OSError:
                    continue
    return seen


def test_a_fix_through_nsenter_changes_the_container_not_this_machine(container, tmp_path):
    leader = leader_of(container.pid)
    entered = Entered(leader, container.connect_options)
    with container.connect() as conn:
        hostname = conn.run("hostname").stdout.strip()
        conn.run("sed -i '/^127.0.1.1/d' /etc/hosts").check()
        # A node has a default route, whose address kubeadm takes for the node's own.
        conn.run("ip -4 route show default | grep -q . || ip route add default dev eth0").check()
    before_here = this_machine()

    before = compliance.run(entered, tmp_path, "before", select=SELECT)
    failing = before.failing()
    assert failing and all(n.startswith("test_hostname[nsenter://") for n in failing), before.cases

    fixed = compliance.run(entered, tmp_path, "fix", "--fix", STRICT, select=SELECT)
    for name in failing:
        assert fixed.cases[name].outcome == "fixed", (name, fixed.cases[name], fixed.output)
    assert fixed.ret == 0, fixed.output

    again = compliance.run(entered, tmp_path, "again", "--fix", STRICT, select=SELECT)
    assert again.failing() == set(), again.cases
    assert not any(c.fixes for c in again.cases.values())
    over_ssh = compliance.run(container, tmp_path, "ssh", STRICT, select=SELECT)
    assert over_ssh.failing() == set() and over_ssh.cases, over_ssh.cases

    with container.connect() as conn:  # the container's own reads, over its sshd
        resolved = conn.run("getent hosts %s", hostname).check().stdout.split()[0]
        assert not resolved.startswith("127."), resolved
    assert this_machine() == before_here

    listed = runs(entered, "list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    recorded = [ln.split() for ln in listed.stdout.splitlines()[1:]]
    assert [(r[2], r[-1]) for r in recorded] == [(entered.spec, "finished")], listed.stdout

    undone = runs(entered, "undo", recorded[0][0])
    assert undone.returncode == 0, undone.stdout + undone.stderr
    after = compliance.run(entered, tmp_path, "undone", STRICT, select=SELECT)
    assert after.failing() == failing, after.cases
    assert this_machine() == before_here


def runs(host: Entered, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m kit.runs` against the host, as an operator undoes a run."""
    return subprocess.run(
        [sys.executable, "-m", "kit.runs", f"--hosts={host.spec}", *args],
        cwd=compliance.ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
