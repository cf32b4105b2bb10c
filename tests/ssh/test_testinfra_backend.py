"""testinfra's Host over a hostkit connection behaves as over testinfra's own SSH backends."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import testinfra.host

from kit.connection import FromCallable
from kit.connection.spec import parse
from kit.plugin import backend
from kit.plugin.hosts import HostRegistry
from tests.ssh import sshd

LATIN9 = "fr_FR.ISO-8859-15"


@pytest.fixture
def make_host(server: sshd.Sshd) -> Iterator[Callable[..., testinfra.host.Host]]:
    """A testinfra Host on the test sshd through KitBackend, with a registry of its own."""
    saved = backend._registry
    registry = HostRegistry({})
    backend.install(registry)

    def make(user: str = sshd.USER, **kwargs: Any) -> testinfra.host.Host:
        options: dict[str, Any] = {
            "identity_file": server.client_key,
            "known_hosts": server.known_hosts,
        }
        if user in server.users:
            password = server.users[user]
            options["sudo_password"] = FromCallable(lambda: password)
        ctx = registry.add(parse(server.spec(user)), f"{user}-{len(list(registry))}", **options)
        kit_backend = backend.KitBackend(ctx.key, **kwargs)
        host = testinfra.host.Host(kit_backend)
        kit_backend.set_host(host)
        return host

    try:
        yield make
    finally:
        registry.close()
        backend.install(saved)


def test_host_sudo_switches_to_root_and_back(make_host) -> None:
    host = make_host()
    assert host.check_output("id -un") == sshd.USER
    with host.sudo():
        assert host.check_output("id -u") == "0"
        # Nested blocks: the innermost user wins, as in testinfra.
        with host.sudo(sshd.NOPASSWD_USER):
            assert host.check_output("id -un") == sshd.NOPASSWD_USER
        assert host.check_output("id -un") == "root"
    assert host.check_output("id -un") == sshd.USER


def test_host_sudo_user_with_a_password_never_puts_it_on_a_command_line(
    make_host, server: sshd.Sshd
) -> None:
    host = make_host()
    with host.sudo(sshd.NOPASSWD_USER):
        result = host.run("id -un; ps -eo args")
    assert result.rc == 0
    assert result.stdout.splitlines()[0] == sshd.NOPASSWD_USER
    assert server.users[sshd.USER] not in result.stdout
    assert server.users[sshd.USER] not in result.command.decode()


def test_sudo_option_and_sudo_user_option(make_host) -> None:
    assert make_host(sudo=True).check_output("id -u") == "0"
    as_other = make_host(sudo=True, sudo_user=sshd.NOPASSWD_USER)
    assert as_other.check_output("id -un") == sshd.NOPASSWD_USER


def test_commands_run_in_the_login_shell(make_host) -> None:
    # hostkit-nopw logs in with bash: brace expansion and [[ ]] are bash's, not sh's.
    # Its ~/.bashrc prints a line first, as it does for every command sshd runs.
    host = make_host(sshd.NOPASSWD_USER)
    assert host.check_output("echo {a,b}").splitlines()[-1] == "a b"
    assert host.run("[[ x == x ]]").rc == 0
    assert host.check_output("type -P sh").splitlines()[-1] in ("/bin/sh", "/usr/bin/sh")
    # hostkit-test logs in with sh, where none of that exists.
    assert make_host().check_output("echo {a,b}") == "{a,b}"


def test_late_output_of_a_background_job_stays_with_it(make_host) -> None:
    host = make_host()
    assert host.run("(sleep 1; echo LATE) &").stdout == ""
    assert host.check_output("echo mine") == "mine"
    time.sleep(1.5)
    assert host.run("echo after").stdout == "after\n"
    assert host.run("(sleep 1; echo LATE) &").stdout == ""
    assert host.run("sleep 2; echo again").stdout == "again\n"


@pytest.fixture(scope="module")
def latin9() -> str:
    """The latin-9 locale testinfra's Debian test image gives its sessions."""
    have = subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.lower()
    if "fr_fr.iso885915" not in have.replace("-", ""):
        made = subprocess.run(
            ["localedef", "-i", "fr_FR", "-f", "ISO-8859-15", LATIN9], capture_output=True
        )
        if made.returncode not in (0, 1):  # 1: written, with warnings
            pytest.skip(f"cannot build the {LATIN9} locale: {made.stderr.decode().strip()}")
    return LATIN9


def test_text_in_the_hosts_own_encoding(make_host, latin9: str) -> None:
    # bash reads ~/.bashrc for the commands sshd runs, so this sets the session's locale.
    bashrc = Path(f"/home/{sshd.NOPASSWD_USER}/.bashrc")
    before = bashrc.read_text()
    bashrc.write_text(f"export LANG={latin9} LC_ALL={latin9}\n")
    try:
        host = make_host(sshd.NOPASSWD_USER)
        assert host.backend.encoding.upper().replace("-", "").replace("_", "") == "ISO885915"
        # "é" goes out as one byte and "€" comes back as latin-9's 0xA4.
        assert host.run("printf %s é | od -An -tx1").stdout.split() == ["e9"]
        result = host.run("printf '\\244'")
        assert result.stdout_bytes == b"\xa4"
        assert result.stdout == "€"
        assert host.check_output("echo €") == "€"
    finally:
        bashrc.write_text(before)


def test_sudo_refusing_is_a_failed_command_as_in_testinfra(make_host) -> None:
    host = make_host(sshd.NOPASSWD_USER)
    with host.sudo("hk-no-such-user"):
        result = host.run("true")
    assert result.rc == 1
    assert "sudo failed" in result.stderr
    assert host.run("true").rc == 0
