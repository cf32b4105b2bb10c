"""--fix on a broken host as an operator would run it: what it must refuse, hold back, undo
and leave on record. Each test puts its wrong state in place and takes it away again,
since the hosts are shared: the VM with the other modules, the container (`container`,
booted for this module) between this module's scenarios.

Only the first scenario needs the VM (swap, a module and a sysctl are fixed beside the
refused port); a service holding a port, a fix's journal and its restored files are the
same on a systemd container, where they run without the VM's emulation."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from tests.hosts import compliance

pytestmark = pytest.mark.hosts

LISTEN = (
    "import socket, time; s = socket.socket(); "
    "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
    "s.bind(('0.0.0.0', 10250)); s.listen(); time.sleep(10**9)"
)
# Started from an SSH login on a host without logind, a process stays in ssh.service's
# cgroup. The VM may have logind by now (firewalld pulls it in), so put it there.
IN_SSH_SERVICE = (
    'echo $$ > /sys/fs/cgroup/system.slice/ssh.service/cgroup.procs && exec python3 -c "$0"'
)
KUBELET = f"""[Unit]
Description=Stands in for kubelet: holds its port
[Service]
ExecStart=/usr/bin/python3 -c "{LISTEN}"
[Install]
WantedBy=multi-user.target
"""
RUNS = "/var/lib/hostkit/runs"
# A node before `kubeadm join`: the profile whose ports must be free.
PREFLIGHT = ("--profile", "kubernetes-preflight-worker")
FREE_PORT = (
    "kill $(ss -Hltnp 'sport = :10250' | grep -o 'pid=[0-9]*' | cut -d= -f2) 2>/dev/null;"
    " for i in $(seq 50); do ss -Hltn 'sport = :10250' | grep -q . || exit 0; sleep 0.1; done;"
    " exit 1"
)


def wait_listening(conn) -> None:
    conn.run(
        "for i in $(seq 50); do ss -Hltn 'sport = :10250' | grep -q . && exit 0; sleep 0.1; done;"
        " exit 1"
    ).check()


def test_a_listener_inside_ssh_service_is_refused_and_the_rest_is_fixed(vm, tmp_path):
    with vm.connect() as conn:
        conn.run(
            "fallocate -l 32M /hk-safety-swap && chmod 600 /hk-safety-swap"
            " && mkswap -q /hk-safety-swap && swapon /hk-safety-swap"
            " && echo '/hk-safety-swap none swap sw 0 0' >> /etc/fstab"
            " && echo 'blacklist br_netfilter' > /etc/modprobe.d/hk-blacklist.conf"
            " && (modprobe -r br_netfilter 2>/dev/null; sysctl -q -w net.ipv4.ip_forward=0)"
        ).check()
        conn.run(
            "setsid nohup sh -c %s %s >/dev/null 2>&1 </dev/null &", IN_SSH_SERVICE, LISTEN
        ).check()
        wait_listening(conn)
    try:
        # swap_off: not the kubelet's swap cross-check, which has no kubelet to read here
        select = "swap_off or (module and br_netfilter) or (sysctl and ip_forward) or port_free"
        # --strict: swap is a warning check, whose fix runs only when asked.
        fix = ("--fix", "--max-disruption=high", "--strict")
        run = compliance.run(vm, tmp_path, "fix", *PREFLIGHT, *fix, select=select)
        port = next(c for n, c in run.cases.items() if n.startswith("test_port_free"))
        assert port.outcome == "failed", port
        assert "fix refused: ssh.service runs sshd" in port.message, port.message
        assert "host unchanged" in port.message
        for name, case in run.cases.items():
            if not name.startswith("test_port_free"):
                assert case.outcome in ("fixed", "passed"), (name, case)
        assert any(c.outcome == "fixed" for c in run.cases.values())
        with vm.connect() as conn:  # independent reads: SSH untouched, the rest repaired
            assert conn.run("systemctl is-active ssh.service").stdout.strip() == "active"
            assert conn.run("systemctl is-enabled ssh.service").stdout.strip() == "enabled"
            assert conn.run("ss -Hltn 'sport = :10250'").stdout.strip()
            assert conn.run("swapon --noheadings --show").stdout.strip() == ""
            assert conn.run("grep -qw br_netfilter /proc/modules").ok
            assert conn.run("sysctl -n net.ipv4.ip_forward").stdout.strip() == "1"
    finally:
        with vm.connect() as conn:
            conn.run(FREE_PORT).check()
            conn.run("rm -f /etc/modprobe.d/hk-blacklist.conf").check()
            conn.run("swapoff /hk-safety-swap; rm -f /hk-safety-swap")


def test_kubelet_is_never_stopped_to_free_its_own_port(container, tmp_path):
    with container.connect() as conn:
        conn.run(FREE_PORT).check()
        conn.put(KUBELET.encode(), "/etc/systemd/system/kubelet.service")
        conn.run("systemctl daemon-reload && systemctl enable --now kubelet.service").check()
        wait_listening(conn)
    try:
        # Even where stopping services is allowed, the port's expected owner is not stopped.
        run = compliance.run(
            container,
            tmp_path,
            "fix",
            *PREFLIGHT,
            "--fix",
            "--max-disruption=high",
            select="port_free",
        )
        (case,) = run.cases.values()
        assert case.outcome == "failed"
        assert "its expected owner kubelet: not stopping it" in case.message, case.message
        with container.connect() as conn:
            assert conn.run("systemctl is-active kubelet.service").stdout.strip() == "active"
            assert conn.run("systemctl is-enabled kubelet.service").stdout.strip() == "enabled"
    finally:
        with container.connect() as conn:
            conn.run(
                "systemctl disable --now kubelet.service;"
                " rm -f /etc/systemd/system/kubelet.service; systemctl daemon-reload"
            )


SUITE = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files, journal

FIRST, SECOND = "/etc/hk-first.conf", "/etc/hk-missing-dir/second.conf"

@remediation(strategy="configure", disruption="low")
def two_files(target):
    files.write_file(target.conn, FIRST, "step one\\n", sudo=True, dry_run=target.dry_run)
    files.write_file(target.conn, SECOND, "step two\\n", sudo=True, dry_run=target.dry_run)

@check("t.twofiles", "two files hold their settings", fix=two_files)
def test_two_files(conn):
    assert conn.run("cat /etc/hk-first.conf").stdout == "step one\\n"

@remediation(strategy="configure", disruption="low")
def slow(target):
    files.write_file(target.conn, "/etc/hk-slow.conf", "begun\\n", sudo=True)
    with journal.live_step(target.conn, "wait for the network"):
        target.conn.run("sleep 120")

@check("t.slow", "a fix that takes long", fix=slow)
def test_slow(conn):
    assert conn.run("cat /etc/hk-slow.conf").stdout == "done\\n"
"""


@pytest.fixture
def suite(tmp_path) -> Path:
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "test_safety_suite.py").write_text(SUITE)
    return folder


def test_a_fix_failing_at_its_second_step_puts_the_first_file_back(container, tmp_path, suite):
    original = b"# kept\nkey = \xe9t\xe9\n"
    with container.connect() as conn:
        conn.put(original, "/etc/hk-first.conf", mode="0640")
        conn.run("chgrp adm /etc/hk-first.conf").check()
        before = conn.run("stat -c '%a %U %G %Y' /etc/hk-first.conf").stdout
    run = compliance.run(container, tmp_path, "twofiles", "--fix", select="two_files", suite=suite)
    (case,) = run.cases.values()
    assert case.outcome == "error"
    assert "fix failed at write_file /etc/hk-missing-dir/second.conf" in case.message
    assert "restored 1 file" in case.message
    with container.connect() as conn:
        assert conn.get("/etc/hk-first.conf") == original
        assert conn.run("stat -c '%a %U %G %Y' /etc/hk-first.conf").stdout == before
        (log,) = conn.run(f"ls -1t {RUNS}/*/journal | head -1").stdout.split()
        entries = [json.loads(line) for line in conn.get(log).decode().splitlines()]
        conn.run("rm -f /etc/hk-first.conf")
    first = [e for e in entries if e.get("path") == "/etc/hk-first.conf"]
    assert [e.get("state") for e in entries if e.get("seq") == first[0]["seq"]] == [
        "begin",
        "done",
        "restored",
    ]
    assert any(e.get("event") == "fix-failed" for e in entries)


def test_a_killed_controller_leaves_a_journal_that_the_next_run_reports(container, tmp_path, suite):
    report = tmp_path / "killed.xml"
    args = compliance.command(container, report, suite, "--fix", "-k", "slow")
    killed = subprocess.Popen(args, cwd=suite, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with container.connect() as conn:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                found = conn.run(f"grep -l 'wait for the network' {RUNS}/*/journal")
                if found.ok:
                    break
                time.sleep(1)
            else:
                pytest.fail("the fix never reached its slow step")
    finally:
        killed.kill()
        killed.wait()
    run_id = found.stdout.strip().split("/")[-2]
    after = compliance.run(container, tmp_path, "after", "--fix", select="two_files", suite=suite)
    assert f"earlier run {run_id} did not finish (wait for the network for t.slow)" in after.output
    assert "another hostkit run" not in after.output  # the dead run's lock was stale
    again = compliance.run(container, tmp_path, "again", "--fix", select="two_files", suite=suite)
    assert "did not finish" not in again.output
    with container.connect() as conn:
        conn.run("rm -f /etc/hk-slow.conf /etc/hk-first.conf; pkill -f 'sleep 120'")
