"""Ansible inventories as host specs with per-host connection options.

Two backends read them: Ansible's own `ansible-inventory --list` when it is installed
(every plugin, vault and variable rule), and a built-in reader of the static INI and
YAML formats that gives Ansible's answer or refuses with an error naming what it lacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.connection.secrets import FromCallable, SecretProvider
from kit.connection.spec import HostSpec, build
from kit.errors import KitValueError
from kit.inventory import ansible, patterns
from kit.inventory.model import Model, Unsupported, VarsDirs
from kit.inventory.parse import parse_ini, parse_yaml

BACKENDS = ("auto", "builtin", "ansible")

# Variables hostkit cannot honour when it connects itself: refusing beats ignoring them.
_UNMAPPED = (
    "ansible_ssh_common_args",
    "ansible_ssh_extra_args",
    "ansible_ssh_args",
    "ansible_sftp_extra_args",
    "ansible_scp_extra_args",
    "ansible_ssh_executable",
    "ansible_ssh_host_key_checking",
    "ansible_host_key_checking",
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_password",
    "ansible_become_exe",
    "ansible_become_flags",
    "ansible_shell_type",
    "ansible_shell_executable",
    "ansible_paramiko_proxy_command",
    "ansible_jump_host",
    "ansible_ssh_proxy_command",
)
_SECRETS = ("ansible_become_password", "ansible_become_pass", "ansible_sudo_pass")
_MAPPED = (
    "ansible_host",
    "ansible_ssh_host",
    "ansible_port",
    "ansible_ssh_port",
    "ansible_user",
    "ansible_ssh_user",
    "ansible_connection",
    "ansible_ssh_private_key_file",
    "ansible_private_key_file",
    "ansible_become_user",
    "ansible_become_method",
    *_SECRETS,
)
_SSH_CONNECTIONS = ("ssh", "smart", "paramiko", "paramiko_ssh", "ansible.builtin.ssh")


@dataclass(frozen=True)
class InventoryHost:
    name: str
    spec: HostSpec
    identity_file: str | None = None
    groups: frozenset[str] = field(default_factory=frozenset)
    # Every variable the host ends up with, after group and host precedence (passwords removed).
    vars: Mapping[str, Any] = field(default_factory=dict)
    sudo_user: str | None = None
    sudo_password: SecretProvider | None = field(default=None, repr=False)


class OtherConnection(KitValueError):
    """A host whose ansible_connection hostkit does not carry out (docker, winrm, ...)."""


class Inventory(list[InventoryHost]):
    """The hosts of an inventory, which also remembers its groups for host patterns.

    others: the names of hosts of other connections, when the caller asked to keep them
    aside (testinfra's ansible backend reaches them) rather than refuse the inventory.
    """

    def __init__(
        self, hosts: list[InventoryHost], model: Model, backend: str, others: list[str]
    ) -> None:
        super().__init__(hosts)
        self.model = model
        self.backend = backend
        self.others = others


def choose_backend(wanted: str = "auto") -> str:
    if wanted not in BACKENDS:
        raise KitValueError(f"unknown inventory backend {wanted!r}; use {', '.join(BACKENDS)}")
    if wanted == "auto":
        return "ansible" if ansible.available() else "builtin"
    return wanted


def load(path: str | Path, backend: str = "builtin", *, others: bool = False) -> Inventory:
    """The inventory's hosts; a host of a connection hostkit does not carry out is refused,
    or with others=True left out and named in `Inventory.others`."""
    file = Path(path)
    chosen = choose_backend(backend)
    if chosen == "ansible":
        model = ansible.model(ansible.run_list(file))
        dirs = None
    else:
        model = _read_builtin(file)
        dirs = VarsDirs(file.parent)
    return from_model(model, file, dirs, chosen, others=others)


def from_model(
    model: Model, file: Path, dirs: VarsDirs | None, backend: str, *, others: bool = False
) -> Inventory:
    hosts, aside = [], []
    for name in model.hostvars:
        try:
            hosts.append(
                _host(name, model.variables(name, dirs), frozenset(model.groups_of(name)), file)
            )
        except OtherConnection:
            if not others:
                raise
            aside.append(name)
    return Inventory(hosts, model, backend, aside)


def select(hosts: list[InventoryHost], patterns_: list[str] | None) -> list[InventoryHost]:
    """Hosts matching Ansible host patterns (all when none), in Ansible's order."""
    if not patterns_:
        return hosts
    model = hosts.model if isinstance(hosts, Inventory) else _model_of(hosts)
    names = patterns.evaluate(model, patterns_)
    by_name = {h.name: h for h in hosts}
    if not names:
        raise KitValueError(f"inventory has no host matching {', '.join(patterns_)}")
    return [by_name[n] for n in names if n in by_name]


def select_others(loaded: Inventory, patterns_: list[str]) -> list[str]:
    """The names in `loaded.others` that Ansible host patterns select, in Ansible's order."""
    if not loaded.others:
        return []
    return [n for n in patterns.evaluate(loaded.model, patterns_) if n in loaded.others]


def _model_of(hosts: list[InventoryHost]) -> Model:
    model = Model()
    for host in hosts:
        model.hostvars[host.name] = {}
        for group in sorted(host.groups - {"all"}):
            model.add_host(host.name, group, {})
    model.reconcile()
    return model


def _read_builtin(file: Path) -> Model:
    where = f"inventory {file}"
    if file.is_dir():
        raise Unsupported(where, "an inventory directory")
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise KitValueError(f"{where}: {exc.strerror}") from None
    if raw.startswith(b"#!") or (file.stat().st_mode & 0o111 and file.suffix != ".ini"):
        raise Unsupported(where, "an executable (dynamic) inventory")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise KitValueError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    if text.lstrip().startswith("$ANSIBLE_VAULT"):
        raise Unsupported(where, "a vault-encrypted file")
    if file.suffix in (".yaml", ".yml", ".json") or text.lstrip().startswith(("---", "{")):
        return parse_yaml(text, file)
    if file.suffix != ".ini" and _looks_like_yaml(text):
        return parse_yaml(text, file)
    return parse_ini(text, file)


def _looks_like_yaml(text: str) -> bool:
    first = next((ln for ln in text.splitlines() if ln.strip() and ln[0] not in "#;"), "")
    return first.rstrip().endswith(":") and not first.startswith("[")


# The variables of one setting of Ansible's ssh connection, in the order its plugin lists
# them (ansible/plugins/connection/ssh.py): Ansible takes the last one set, whatever level of
# the inventory set each (ansible.config.manager.ConfigManager._loop_entries).
_ADDRESS = ("ansible_host", "ansible_ssh_host")
_PORT = ("ansible_port", "ansible_ssh_port")
_LOGIN = ("ansible_user", "ansible_ssh_user")
_KEY = ("ansible_private_key_file", "ansible_ssh_private_key_file")


def _last(hv: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    found = [hv[n] for n in names if hv.get(n) is not None]
    return found[-1] if found else None


def _one(hv: Mapping[str, Any], names: tuple[str, ...], where: str) -> Any:
    found = {n: hv[n] for n in names if hv.get(n) is not None}
    if len({repr(v) for v in found.values()}) > 1:
        raise KitValueError(f"{where}: {' and '.join(found)} disagree")
    return next(iter(found.values()), None)


def _host(name: str, hv: dict[str, Any], groups: frozenset[str], file: Path) -> InventoryHost:
    where = f"inventory {file}: host {name!r}"
    connection = str(hv.get("ansible_connection") or "ssh")
    if connection != "local" and connection not in _SSH_CONNECTIONS:
        # Before the variables below: they are settings of connections hostkit makes.
        raise OtherConnection(f"{where}: ansible_connection={connection} is not supported")
    for key in _UNMAPPED:
        if hv.get(key) not in (None, ""):
            raise KitValueError(f"{where}: {key} is not supported; hostkit connects by itself")
    for key, value in hv.items():
        if isinstance(value, str) and value.startswith("$ANSIBLE_VAULT"):
            raise Unsupported(where, f"the vault-encrypted {key}")
        if key in _MAPPED and isinstance(value, dict) and "__ansible_vault" in value:
            raise KitValueError(f"{where}: {key} is vault-encrypted and hostkit cannot decrypt it")
    if connection == "local":
        spec = HostSpec("local")
    else:
        spec = build(
            str(_last(hv, _ADDRESS) or name),
            _user(_last(hv, _LOGIN)),
            _port(_last(hv, _PORT), where),
            where=where,
        )
    key = _last(hv, _KEY)
    sudo_user, secret = _become(hv, where)
    public = {k: v for k, v in hv.items() if k not in _SECRETS}
    return InventoryHost(name, spec, str(key) if key else None, groups, public, sudo_user, secret)


def _user(user: Any) -> str | None:
    return str(user) if user not in (None, "") else None


def _port(port: Any, where: str) -> int | None:
    if port is None:
        return None
    # int() would also take " 22", "٣" and 22.9; an inventory port is plain digits.
    if isinstance(port, bool) or not isinstance(port, int | str):
        raise KitValueError(f"{where}: invalid ansible_port {port!r}")
    if isinstance(port, str):
        if not (port.isascii() and port.isdigit() and len(port) <= 5):
            raise KitValueError(f"{where}: invalid ansible_port {port!r}")
        port = int(port)
    return port


def _become(hv: Mapping[str, Any], where: str) -> tuple[str | None, SecretProvider | None]:
    method = hv.get("ansible_become_method")
    if method not in (None, "sudo", "ansible.builtin.sudo"):
        raise KitValueError(f"{where}: ansible_become_method={method} is not supported; use sudo")
    user = hv.get("ansible_become_user")
    password = _one(hv, _SECRETS, where)
    secret = None
    if password is not None:
        text = str(password)
        secret = FromCallable(lambda: text)
    return (str(user) if user and user != "root" else None), secret
