"""testinfra's ways of naming hosts and options go through hostkit, or are refused clearly."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import kit
from kit.errors import HostKeyRejected
from tests.ssh import sshd

# pytest subprocesses import the kit these tests belong to.
pytestmark = pytest.mark.usefixtures("this_kit")

CHECKS = """

def test_whoami(host):
    assert type(host.backend).__name__ == "KitBackend"
    assert host.run("id -un").stdout.splitlines()[-1] == EXPECTED
"""


def _config(path: Path, root_server: sshd.Sshd, extra: str = "") -> Path:
    path.write_text(
        "Host target\n"
        f"  HostName {root_server.host}\n"
        f"  Port {root_server.port}\n"
        "  User root\n"
        f"  IdentityFile {root_server.client_key}\n"
        f"  UserKnownHostsFile {root_server.known_hosts}\n" + extra
    )
    return path


def test_user_known_hosts_file_from_ssh_config(tmp_path: Path, root_server: sshd.Sshd) -> None:
    config = _config(tmp_path / "config", root_server)
    with kit.connect("target", ssh_config=config) as conn:
        assert conn.run("id -un").stdout.splitlines()[-1] == "root"


def test_strict_host_key_checking_no_is_honoured_with_a_warning(
    tmp_path: Path, root_server: sshd.Sshd
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    strict = tmp_path / "strict"
    strict.write_text(
        _config(strict, root_server).read_text().replace(str(root_server.known_hosts), str(empty))
    )
    with pytest.raises(HostKeyRejected):
        kit.connect("target", ssh_config=strict)
    off = tmp_path / "off"
    off.write_text(strict.read_text() + "  StrictHostKeyChecking no\n")
    with (
        pytest.warns(UserWarning, match="not verified"),
        kit.connect("target", ssh_config=off) as c,
    ):
        assert c.run("true").rc == 0
    assert empty.read_text() == ""
    new = tmp_path / "new"
    new.write_text(strict.read_text() + "  StrictHostKeyChecking accept-new\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with kit.connect("target", ssh_config=new) as conn:
            assert conn.run("true").rc == 0
    assert root_server.host_key_pub.split()[1] in empty.read_text()


@pytest.fixture
def config(pytester: pytest.Pytester, root_server: sshd.Sshd) -> Path:
    return _config(pytester.path / "ssh_config", root_server)


def test_module_level_testinfra_hosts(pytester: pytest.Pytester, config: Path) -> None:
    pytester.makepyfile(test_mod="testinfra_hosts = ['target']\nEXPECTED = 'root'\n" + CHECKS)
    result = pytester.runpytest_subprocess(f"--ssh-config={config}", "-p", "no:cacheprovider")
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*1 passed*"])


@pytest.mark.parametrize(
    "spec",
    [
        "paramiko://target?sudo=True&ssh_config={config}",
        "ssh://target?sudo=true&sudo_user=root&ssh_config={config}&timeout=20",
    ],
)
def test_testinfra_urls_with_options(pytester: pytest.Pytester, config: Path, spec: str) -> None:
    pytester.makepyfile(test_mod="EXPECTED = 'root'\n" + CHECKS)
    result = pytester.runpytest_subprocess(f"--hosts={spec.format(config=config)}")
    assert result.ret == 0, result.stdout.str()


def test_module_level_url_goes_through_hostkit(pytester: pytest.Pytester, config: Path) -> None:
    pytester.makepyfile(
        test_mod=f"testinfra_hosts = ['paramiko://target?ssh_config={config}']\n"
        f"EXPECTED = 'root'\n" + CHECKS
    )
    result = pytester.runpytest_subprocess()
    assert result.ret == 0, result.stdout.str()


def test_sudo_and_sudo_user_options(pytester: pytest.Pytester, config: Path) -> None:
    pytester.makepyfile(test_mod="EXPECTED = 'root'\n" + CHECKS)
    result = pytester.runpytest_subprocess("--hosts=target", f"--ssh-config={config}", "--sudo")
    assert result.ret == 0, result.stdout.str()


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("nosuch://box", "unknown scheme 'nosuch'"),
        ("ssh://target?controlpersist=60", "one connection per host"),
        ("ansible://all", "--ansible-inventory"),
    ],
)
def test_what_hostkit_cannot_do_is_refused(pytester: pytest.Pytester, spec: str, says: str) -> None:
    pytester.makepyfile(test_mod="def test_x(host):\n    pass\n")
    result = pytester.runpytest_subprocess(f"--hosts={spec}")
    assert result.ret != 0
    assert says in result.stderr.str() + result.stdout.str()


def test_ansible_connection_resolves_groups(
    pytester: pytest.Pytester, root_server: sshd.Sshd
) -> None:
    inventory = pytester.path / "hosts.ini"
    inventory.write_text(
        "[webservers]\n"
        f"web1 ansible_host=127.0.0.1 ansible_port={root_server.port} "
        f"ansible_user=root ansible_ssh_private_key_file={root_server.client_key}\n"
    )
    pytester.makepyfile(
        test_mod="EXPECTED = 'root'\n"
        + CHECKS
        + "\ndef test_name(host):\n    assert host.backend.get_pytest_id() == 'web1'\n"
    )
    result = pytester.runpytest_subprocess(
        "--connection=ansible",
        f"--ansible-inventory={inventory}",
        "--hosts=webservers",
        f"--known-hosts={root_server.known_hosts}",
    )
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*2 passed*"])
