"""Hosts of testinfra's other backends (docker, podman, kubectl, chroot, ...) run as they do
without hostkit: testinfra's own backend runs their tests, hostkit's checks only read
through it, and --fix refuses them before anything runs.

The host here is testinfra's chroot backend on this machine's root (`--connection=chroot
--hosts=/`): a backend hostkit does not carry out itself, which needs no daemon. Its
commands run for real, as root (chroot needs it).
"""

from __future__ import annotations

import os
import sys

import pytest

from kit.plugin.outcomes import EXIT_USAGE

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="testinfra's chroot backend needs root")

CHROOT = ("--connection=chroot", "--hosts=/")

PLAIN = """
def test_runs_on_testinfras_own_backend(host):
    assert type(host.backend).__name__ == "ChrootBackend"
    assert host.check_output("echo hi") == "hi"
    assert host.file("/etc/os-release").exists
"""

CHECKS = """
import pytest
from kit.catalog.check import check

@check("t.reads", "reads through the backend")
def test_reads(host, conn, facts):
    assert type(host.backend).__name__ == "ChrootBackend"
    assert conn.read("echo %s", "read").stdout == "read\\n"
    assert facts.os.id

@check("t.writes", "tries to write")
def test_writes(conn):
    conn.run("true")
"""


def test_plain_testinfra_tests_run_on_its_own_backend(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_plain=PLAIN)
    result = pytester.runpytest_subprocess(*CHROOT)
    result.assert_outcomes(passed=1)
    assert "chroot:///" in result.stdout.str()


def test_checks_read_through_the_backend_and_never_write(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=CHECKS)
    result = pytester.runpytest_subprocess(*CHROOT, "-rA")
    # A check that raises other than its assertion could not look: an error, as everywhere.
    result.assert_outcomes(passed=1, errors=1)
    out = result.stdout.str()
    assert "PASSED test_checks.py::test_reads[chroot:///]" in out
    assert "read-only" in out and "chroot" in out, out


def test_fix_refuses_them_one_line_per_host(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=CHECKS)
    result = pytester.runpytest_subprocess("--hosts=local://,docker://box,podman://pod", "--fix")
    assert result.ret == EXIT_USAGE
    lines = [ln for ln in result.stderr.lines if ln.strip()]
    assert lines == [
        "ERROR: --fix cannot change hosts hostkit only reads through testinfra's backends:",
        "  docker://box: testinfra's docker backend",
        "  podman://pod: testinfra's podman backend",
    ], lines
    assert "collected" not in result.stdout.str()


def test_force_ansible_runs_on_testinfras_ansible_backend(pytester: pytest.Pytester) -> None:
    # testinfra's ansible backend with force_ansible runs each command as an Ansible task
    # (the shell module), here over a local connection: slow, and only for this.
    pytest.importorskip("ansible")
    inventory = pytester.path / "hosts.ini"
    python = f"ansible_python_interpreter={sys.executable}"
    inventory.write_text(f"h1 ansible_connection=local {python}\n")
    pytester.makepyfile(
        test_plain="""
def test_runs_as_an_ansible_task(host):
    assert type(host.backend).__name__ == "AnsibleBackend"
    assert host.check_output("echo hi") == "hi"
"""
    )
    result = pytester.runpytest_subprocess(
        f"--hosts=ansible://h1?force_ansible=true&ansible_inventory={inventory}"
    )
    result.assert_outcomes(passed=1)


def test_inventory_hosts_hostkit_cannot_reach_stay_with_testinfras_ansible_backend(
    pytester: pytest.Pytester,
) -> None:
    # A docker host of the inventory is testinfra's (through its ansible backend), as
    # without hostkit; the local one is hostkit's. No command runs on the docker one: there
    # is no docker daemon here.
    inventory = pytester.path / "hosts.ini"
    inventory.write_text("l1 ansible_connection=local\nd1 ansible_connection=docker\n")
    pytester.makepyfile(
        test_plain="""
def test_backend(host):
    mine = host.backend.get_pytest_id() == "l1"
    assert type(host.backend).__name__ == ("KitBackend" if mine else "AnsibleBackend")
    assert mine or host.backend.get_pytest_id() == "ansible://d1"
"""
    )
    result = pytester.runpytest_subprocess(f"--hosts=ansible://all?ansible_inventory={inventory}")
    result.assert_outcomes(passed=2)
