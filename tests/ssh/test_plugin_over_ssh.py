"""The plugin against a real sshd: inventories, host keys, sudo passwords from providers."""

from __future__ import annotations

import pytest

from kit.plugin.outcomes import EXIT_UNREACHABLE
from tests.ssh import sshd

CHECKS = """
def test_whoami(host):
    assert host.run("id -un").stdout.strip() == EXPECTED_USER

def test_root_through_sudo(host):
    assert host.check_output("id -u") == "0"
"""


@pytest.fixture
def suite(pytester):
    def make(expected_user: str) -> None:
        pytester.makepyfile(test_remote=f"EXPECTED_USER = {expected_user!r}\n" + CHECKS)

    return make


def test_inventory_hosts_with_verified_keys(pytester, suite, server):
    suite(sshd.USER)
    inventory = pytester.path / "hosts.ini"
    inventory.write_text(
        "[nodes]\n"
        f"node1 ansible_host=127.0.0.1 ansible_port={server.port} ansible_user={sshd.USER} "
        f"ansible_ssh_private_key_file={server.client_key}\n"
    )
    result = pytester.runpytest_subprocess(
        f"--inventory={inventory}",
        "--hosts=nodes",
        f"--known-hosts={server.known_hosts}",
        "-k",
        "whoami",
    )
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*hostkit compliance*", "node1 *1 *"])


def test_unknown_host_key_is_refused_and_reported_once(pytester, suite, server):
    suite(sshd.USER)
    known = pytester.path / "known_hosts"
    known.write_text("")
    result = pytester.runpytest_subprocess(
        f"--hosts={server.spec(sshd.USER)}",
        f"--known-hosts={known}",
        f"--ssh-identity-file={server.client_key}",
    )
    assert result.ret == EXIT_UNREACHABLE
    lines = result.stdout.str().split("unreachable hosts", 1)[1].splitlines()[1:]
    section = lines[: next(i for i, ln in enumerate(lines) if not ln or ln.startswith("="))]
    assert len(section) == 1 and "SHA256:" in section[0], section
    assert known.read_text() == ""


def test_accept_new_records_the_key(pytester, suite, server):
    suite(sshd.USER)
    known = pytester.path / "known_hosts"
    result = pytester.runpytest_subprocess(
        f"--hosts={server.spec(sshd.USER)}",
        f"--known-hosts={known}",
        f"--ssh-identity-file={server.client_key}",
        "--accept-new-host-keys",
        "-k",
        "whoami",
    )
    assert result.ret == 0, result.stdout.str()
    assert server.host_key_pub.split()[1] in known.read_text()


@pytest.mark.parametrize("source", ["env", "file"])
def test_sudo_password_from_a_provider_never_shows(pytester, suite, server, source, monkeypatch):
    suite(sshd.USER)
    password = server.users[sshd.USER]
    if source == "env":
        monkeypatch.setenv("HK_SUDO_PASSWORD", password)
        provider = "--sudo-password-env=HK_SUDO_PASSWORD"
    else:
        secret = pytester.path / "sudo-password"
        secret.write_text(password + "\n")
        provider = f"--sudo-password-file={secret}"
    result = pytester.runpytest_subprocess(
        f"--hosts={server.spec(sshd.USER)}",
        f"--known-hosts={server.known_hosts}",
        f"--ssh-identity-file={server.client_key}",
        "--sudo",
        provider,
        "--junitxml=report.xml",
        "-k",
        "root",
        "-v",
    )
    assert result.ret == 0, result.stdout.str()
    everything = (
        result.stdout.str() + result.stderr.str() + (pytester.path / "report.xml").read_text()
    )
    assert password not in everything


def test_wrong_sudo_password_is_an_error_not_a_hang(pytester, suite, server, monkeypatch):
    suite(sshd.USER)
    monkeypatch.setenv("HK_SUDO_PASSWORD", "not-the-password")
    result = pytester.runpytest_subprocess(
        f"--hosts={server.spec(sshd.USER)}",
        f"--known-hosts={server.known_hosts}",
        f"--ssh-identity-file={server.client_key}",
        "--sudo",
        "--sudo-password-env=HK_SUDO_PASSWORD",
        "-k",
        "root",
    )
    assert result.ret == 1
    # As under testinfra, sudo refusing is the command's failure, with sudo's reason.
    result.stdout.fnmatch_lines(["*exit_status=1*sudo failed: incorrect password*"])
    assert "not-the-password" not in result.stdout.str()
