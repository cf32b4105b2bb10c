"""A fleet host's fixes land in its own tmpfs and network namespace, never on this machine."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks import fix_profile, fleet, machine
from benchmarks import run as runmod

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the fleet makes network namespaces")


def _login(fl: fleet.Fleet, host: fleet.Host, command: str) -> str:
    argv = [
        "ssh", "-F", "/dev/null", "-i", str(fl.client_key), "-p", str(host.port),
        "-o", f"UserKnownHostsFile={fl.known_hosts}", "-o", "StrictHostKeyChecking=yes",
        "-o", "BatchMode=yes", f"root@{host.dial}", command,
    ]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True).stdout


# Asks, writing nothing, what a root login may write: access(2) answers EROFS for a
# read-only mount, whatever the permissions say.
WRITABLE = (
    "for p in /etc /usr /var /proc/sys/kernel/ns_last_pid /proc/sys/vm/swappiness "
    '/proc/sys/net/ipv4/ip_forward "$1"; do test -w "$p" && echo "$p"; done; :'
)


def test_a_host_may_write_its_tmpfs_and_its_net_sysctls_and_nothing_of_this_machine():
    with fleet.running(2, seed='echo seeded > "$PRIVATE/mark"') as fl:
        probe = f"sh -c '{WRITABLE}' sh {fl.private}"
        writable = _login(fl, fl.hosts[0], probe).split()
        _login(fl, fl.hosts[0], f"echo host0 > {fl.private}/own")
        other = _login(fl, fl.hosts[1], f"cat {fl.private}/mark; ls {fl.private}").split()
        here = sorted(os.listdir(fl.private))
    assert writable == ["/proc/sys/net/ipv4/ip_forward", str(fl.private)], writable
    # Each host has its own tmpfs, seeded; this machine's directory stays empty.
    assert other == ["seeded", "mark"], other
    assert here == []


def test_pids_count_what_a_host_started():
    with fleet.running(1) as fl:
        before = fl.last_pids(1)
        assert fl.processes(before) == 0  # reading starts one process, not counted
        before = fl.last_pids(1)
        # sshd's session processes and the login shell, then three of the shell's own.
        _login(fl, fl.hosts[0], "true; /bin/true; /bin/true; /bin/true")
        started = fl.processes(before)
    assert 4 <= started <= 12, started


def test_a_fix_run_changes_the_host_and_leaves_this_machine_as_it_was():
    (before, volatile) = machine.snapshot_twice()
    with fleet.running(1, seed=fix_profile.SEED) as fl:
        os.environ["HKB_PRIVATE"] = str(fl.private)
        options = (
            "--fix", "-o", f"hostkit_runs_dir={fl.private}/runs",
            "-o", f"hostkit_lock_dir={fl.private}/lock",
        )  # fmt: skip
        check = runmod.run_suite("hostkit", fl, 1, 0, "0", files="fix")
        fixed = runmod.run_suite("hostkit", fl, 1, 0, "0", files="fix", options=options)
        again = runmod.run_suite("hostkit", fl, 1, 0, "0", files="fix")
        forward = subprocess.run(
            ["ip", "netns", "exec", fl.hosts[0].netns, "cat", "/proc/sys/net/ipv4/ip_forward"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        journal = sorted(os.listdir(fl.private))
    after = machine.snapshot()
    assert check.outcomes == {"passed": 1, "failed": 6}, check.output[-2000:]
    assert fixed.outcomes == {"passed": 1, "fixed": 6}, fixed.output[-2000:]
    assert again.outcomes == {"passed": 7}, again.output[-2000:]
    assert forward.strip() == "1"
    assert journal == []  # the fixes went to the host's tmpfs, not to this machine's
    assert machine.changes(before, after, volatile) == []
