"""testinfra host specs and ssh_config host-key settings, read as testinfra and OpenSSH do."""

from __future__ import annotations

from pathlib import Path

import paramiko
import pytest

from kit.connection import sshconfig
from kit.connection.spec import parse
from kit.errors import KitValueError
from kit.plugin.hosts import HostRegistry, Spec


@pytest.mark.parametrize(
    ("text", "scheme", "host", "options"),
    [
        ("paramiko://u@h:2222", "ssh", "u@h:2222", {}),
        ("safe-ssh://h", "ssh", "h", {}),
        ("ssh://h?sudo=True&sudo_user=www", "ssh", "h", {"sudo": True, "sudo_user": "www"}),
        ("ssh://h?sudo=false", "ssh", "h", {}),
        ("ssh://h?ssh_config=~/cfg&timeout=5", "ssh", "h", {"ssh_config": "~/cfg", "timeout": "5"}),
        ("ansible://web?ansible_inventory=/i", "ansible", "web", {"ansible_inventory": "/i"}),
        ("local://", "local", "", {}),
    ],
)
def test_testinfra_urls(text: str, scheme: str, host: str, options: dict[str, object]) -> None:
    spec = Spec.of(text, {})
    assert (spec.scheme, spec.host) == (scheme, host)
    expected = {
        k: str(Path(v).expanduser()) if k == "ssh_config" else v for k, v in options.items()
    }
    assert dict(spec.options) == expected


def test_bare_names_take_the_connection_option() -> None:
    assert Spec.of("web", {"connection": "ansible"}).scheme == "ansible"
    assert Spec.of("web", {"connection": None}).scheme == "ssh"
    assert Spec.of("web", {"connection": "paramiko"}).scheme == "ssh"


@pytest.mark.parametrize(
    ("text", "kw", "says"),
    [
        ("ssh://h?controlpersist=60", {}, "one connection per host"),
        ("ssh://h?namespace=x", {}, "'namespace' is refused"),
        ("h", {"ssh_extra_args": "-o X=y"}, "--ssh-config"),
    ],
)
def test_refused_with_what_to_use(text: str, kw: dict[str, object], says: str) -> None:
    with pytest.raises(KitValueError, match=says.replace("(", r"\(")):
        Spec.of(text, kw)


@pytest.mark.parametrize(
    ("text", "kw", "scheme", "host"),
    [
        ("docker://box", {}, "docker", "box"),
        ("kubectl://pod?container=c&namespace=n", {}, "kubectl", "pod"),
        ("box", {"connection": "podman"}, "podman", "box"),
        ("/srv/root", {"connection": "chroot"}, "chroot", "/srv/root"),
        # Ansible's own connection for every command, asked for: testinfra's ansible backend.
        ("h", {"connection": "ansible", "force_ansible": True}, "ansible", "h"),
        ("ansible://web?force_ansible=true&ansible_inventory=/i", {}, "ansible", "web"),
    ],
)
def test_other_testinfra_backends_are_theirs(
    text: str, kw: dict[str, object], scheme: str, host: str
) -> None:
    # Their URL options are their backend's to read, not hostkit's to refuse.
    spec = Spec.of(text, kw)
    assert (spec.scheme, spec.host, spec.theirs) == (scheme, host, True)
    assert not Spec.of("ssh://h", {}).theirs


def test_ansible_connection_selects_a_group(tmp_path: Path) -> None:
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[web]\nw1 ansible_host=10.0.0.1\nw2 ansible_host=10.0.0.2\n[db]\nd1\n")
    registry = HostRegistry({})
    found = registry.resolve("web", connection="ansible", ansible_inventory=str(inventory))
    assert [(c.label, c.spec.host) for c in found] == [("w1", "10.0.0.1"), ("w2", "10.0.0.2")]
    with pytest.raises(KitValueError, match="--ansible-inventory"):
        registry.resolve("web", connection="ansible")


def test_registry_resolves_ssh_url_options() -> None:
    registry = HostRegistry({})
    (ctx,) = registry.resolve("paramiko://u@h:2222?timeout=7&ssh_config=/c&sudo=true")
    assert ctx.spec == parse("ssh://u@h:2222")
    assert ctx.options == {"ssh_config": "/c", "connect_timeout": 7.0}


def _lookup(text: str) -> sshconfig.Target:
    return sshconfig.resolve(parse("h"), paramiko.SSHConfig.from_text(text))


@pytest.mark.parametrize(
    ("value", "policy"),
    [("no", "ignore"), ("off", "ignore"), ("accept-new", "accept-new"), ("yes", "strict")],
)
def test_strict_host_key_checking(value: str, policy: str) -> None:
    assert _lookup(f"Host h\n  StrictHostKeyChecking {value}\n").host_key_policy == policy


def test_user_known_hosts_file_and_defaults() -> None:
    target = _lookup("Host h\n  UserKnownHostsFile ~/kh /other\n")
    assert target.known_hosts == str(Path("~/kh").expanduser())
    assert target.host_key_policy is None
    assert _lookup("Host other\n  StrictHostKeyChecking no\n").host_key_policy is None
    devnull = _lookup(
        "Host h\n  UserKnownHostsFile /dev/null\n  StrictHostKeyChecking accept-new\n"
    )
    assert devnull.host_key_policy == "ignore"
    with pytest.raises(KitValueError, match="StrictHostKeyChecking"):
        _lookup("Host h\n  StrictHostKeyChecking maybe\n")
