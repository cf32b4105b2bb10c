"""The host options of a run, shared by the pytest plugin and the command-line tools.

pytest reads them as its own (and testinfra's) options; `python -m kit.runs` takes the
same names through `add_arguments`. Both turn them into a HostRegistry with the
functions here, so a host named one way connects the same way in both.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from kit.connection.secrets import FromEnv, FromFile, SecretProvider
from kit.errors import KitValueError
from kit.plugin.hosts import HostContext, HostRegistry

if TYPE_CHECKING:
    from kit.inventory import InventoryHost


def connect_defaults(
    *,
    sudo_password_env: str | None = None,
    sudo_password_file: str | None = None,
    sudo_user: str | None = None,
    identity_file: str | None = None,
    ssh_config: str | None = None,
    known_hosts: str | None = None,
    accept_new_host_keys: bool = False,
) -> dict[str, Any]:
    """The connection options every host starts from."""
    secret: SecretProvider | None = None
    if sudo_password_env and sudo_password_file:
        raise KitValueError("give --sudo-password-env or --sudo-password-file, not both")
    if sudo_password_env:
        secret = FromEnv(sudo_password_env)
    elif sudo_password_file:
        secret = FromFile(sudo_password_file)
    options: dict[str, Any] = {
        "sudo_password": secret,
        "sudo_user": sudo_user,
        "identity_file": identity_file,
        "ssh_config": ssh_config,
        "known_hosts": known_hosts,
        "host_key_policy": "accept-new" if accept_new_host_keys else None,
    }
    return {k: v for k, v in options.items() if v is not None}


def add_inventory(
    registry: HostRegistry, path: str, backend: str, patterns: list[str] | None
) -> tuple[str, list[InventoryHost], list[HostContext]]:
    """The inventory's hosts that the Ansible patterns select, registered: the backend that
    read it, the inventory hosts and their contexts."""
    from kit import inventory

    loaded = inventory.load(path, backend)
    chosen = inventory.select(loaded, patterns or None)
    if not chosen:
        raise KitValueError(f"inventory {path} selects no host")
    contexts = [
        registry.add(
            entry.spec,
            entry.name,
            identity_file=entry.identity_file,
            sudo_user=entry.sudo_user,
            sudo_password=entry.sudo_password,
        )
        for entry in chosen
    ]
    return loaded.backend, chosen, contexts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """pytest's host options, under the same names."""
    add = parser.add_argument
    add("--hosts", help="hosts as for pytest: ssh://[user@]host[:port], local://, nsenter://PID")
    add("--inventory", metavar="FILE", help="Ansible inventory; --hosts then takes patterns")
    add("--inventory-backend", choices=("auto", "builtin", "ansible"), default="auto")
    add("--connection", help="connection type of bare host names (default ssh)")
    add("--ssh-config", metavar="FILE")
    add("--ssh-identity-file", metavar="FILE")
    add("--known-hosts", metavar="FILE", help="known_hosts file to verify host keys against")
    add("--accept-new-host-keys", action="store_true")
    add("--sudo", action="store_true", help="accepted for pytest's sake: writes use sudo anyway")
    add("--sudo-user", metavar="USER")
    add("--sudo-password-env", metavar="VAR")
    add("--sudo-password-file", metavar="FILE")


def hosts_of(args: argparse.Namespace) -> tuple[HostRegistry, list[HostContext]]:
    """The registry and the chosen hosts, in order, from `add_arguments`' options."""
    registry = HostRegistry(
        connect_defaults(
            sudo_password_env=args.sudo_password_env,
            sudo_password_file=args.sudo_password_file,
            sudo_user=args.sudo_user,
            identity_file=args.ssh_identity_file,
            ssh_config=args.ssh_config,
            known_hosts=args.known_hosts,
            accept_new_host_keys=args.accept_new_host_keys,
        )
    )
    names = [h.strip() for h in (args.hosts or "").split(",") if h.strip()]
    if args.hosts is not None and not names:
        raise KitValueError(f"--hosts={args.hosts!r} names no host")
    if args.inventory:
        _, _, contexts = add_inventory(registry, args.inventory, args.inventory_backend, names)
    elif names:
        contexts = []
        for name in names:
            for ctx in registry.resolve(name, connection=args.connection):
                if ctx not in contexts:
                    contexts.append(ctx)
    else:
        raise KitValueError("name the hosts: --hosts=... or --inventory=FILE")
    return registry, contexts
