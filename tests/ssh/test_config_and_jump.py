"""ssh_config (HostName, User, Port, IdentityFile, ProxyJump) against the real sshd."""

from __future__ import annotations

from pathlib import Path

import pytest

import kit
from kit.connection.spec import parse
from kit.connection.sshconfig import load, resolve
from kit.errors import HostUnreachable, KitValueError
from tests.ssh import sshd


def _config(tmp_path: Path, server: sshd.Sshd, extra: str = "") -> Path:
    path = tmp_path / "ssh_config"
    path.write_text(
        f"Host target\n"
        f"  HostName 127.0.0.1\n  Port {server.port}\n  User {sshd.USER}\n"
        f"  IdentityFile {server.client_key}\n"
        f"Host jump\n"
        f"  HostName 127.0.0.1\n  Port {server.port}\n  User {sshd.NOPASSWD_USER}\n"
        f"  IdentityFile {server.client_key}\n"
        f"Host via-jump\n"
        f"  HostName 127.0.0.1\n  Port {server.port}\n  User {sshd.USER}\n"
        f"  IdentityFile {server.client_key}\n  ProxyJump jump\n" + extra
    )
    return path


def test_alias_resolves_hostname_user_port_and_key(server: sshd.Sshd, tmp_path: Path) -> None:
    config = _config(tmp_path, server)
    with kit.connect("ssh://target", ssh_config=config, known_hosts=server.known_hosts) as conn:
        assert conn.run("id -un").stdout == sshd.USER + "\n"


def test_spec_user_wins_over_config(server: sshd.Sshd, tmp_path: Path) -> None:
    config = _config(tmp_path, server)
    spec = f"ssh://{sshd.NOPASSWD_USER}@target"
    with kit.connect(spec, ssh_config=config, known_hosts=server.known_hosts) as conn:
        assert conn.run("id -un").stdout == sshd.NOPASSWD_USER + "\n"


def test_proxyjump_goes_through_the_jump_host(server: sshd.Sshd, tmp_path: Path) -> None:
    config = _config(tmp_path, server)
    needle = f"Accepted publickey for {sshd.NOPASSWD_USER}"
    before = server.log_text().count(needle)
    with kit.connect("ssh://via-jump", ssh_config=config, known_hosts=server.known_hosts) as conn:
        assert conn.run("id -un").stdout == sshd.USER + "\n"
        # The jump user logged in once more: the hop was really made.
        assert server.log_text().count(needle) == before + 1
        # Through the tunnel, sshd sees the target connection coming from itself.
        assert conn.run("echo $SSH_CLIENT").stdout.split()[0] == "127.0.0.1"


def test_proxyjump_to_a_dead_jump_host_names_it(server: sshd.Sshd, tmp_path: Path) -> None:
    dead = sshd.free_port()
    config = _config(
        tmp_path,
        server,
        f"Host dead-jump\n  HostName 127.0.0.1\n  Port {dead}\n"
        f"Host behind-dead\n  HostName 127.0.0.1\n  Port {server.port}\n  ProxyJump dead-jump\n",
    )
    with pytest.raises(HostUnreachable) as caught:
        kit.connect(
            "ssh://behind-dead",
            ssh_config=config,
            known_hosts=server.known_hosts,
            identity_file=server.client_key,
        )
    assert caught.value.host == "dead-jump"


def test_jump_that_cannot_reach_the_target(server: sshd.Sshd, tmp_path: Path) -> None:
    dead = sshd.free_port()
    config = _config(
        tmp_path,
        server,
        f"Host unreachable-behind\n  HostName 127.0.0.1\n  Port {dead}\n  ProxyJump jump\n",
    )
    with pytest.raises(HostUnreachable) as caught:
        kit.connect(
            "ssh://unreachable-behind",
            ssh_config=config,
            known_hosts=server.known_hosts,
            identity_file=server.client_key,
        )
    assert "jump host jump" in str(caught.value)


# -- resolution alone, no network ------------------------------------------------


def test_resolve_chains_jumps_in_order(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(
        "Host a\n  HostName 10.0.0.1\n  User ua\n  Port 2201\n  ProxyJump b\n"
        "Host b\n  HostName 10.0.0.2\n  ProxyJump c\n"
        "Host c\n  HostName 10.0.0.3\n  User uc\n"
        "Host *\n  User fallback\n  IdentityFile ~/.ssh/k1\n"
    )
    target = resolve(parse("a"), load(path))
    assert (target.hostname, target.port, target.user) == ("10.0.0.1", 2201, "ua")
    assert [j.alias for j in target.jumps] == ["c", "b"]
    assert [j.user for j in target.jumps] == ["uc", "fallback"]
    assert target.identity_files == (str(Path("~/.ssh/k1").expanduser()),)


def test_resolve_comma_separated_jumps_and_none(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("Host x\n  ProxyJump u1@h1:2222,ssh://u2@h2\nHost y\n  ProxyJump none\n")
    x = resolve(parse("x"), load(path))
    assert [(j.user, j.hostname, j.port) for j in x.jumps] == [
        ("u1", "h1", 2222),
        ("u2", "h2", 22),
    ]
    assert resolve(parse("y"), load(path)).jumps == ()


def test_resolve_refuses_a_jump_loop(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text("Host p\n  ProxyJump q\nHost q\n  ProxyJump p\n")
    with pytest.raises(KitValueError, match="too long"):
        resolve(parse("p"), load(path))


def test_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KitValueError, match="ssh_config"):
        load(tmp_path / "absent")
