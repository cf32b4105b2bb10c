"""The runner: a stateless library of host operations.

Every operation takes the connection first, and the host's facts where the OS
matters: `runner.set_sysctl(conn, facts, "net.ipv4.ip_forward", "1")`. Writes read
first, do nothing when the host already holds the wanted state, take `dry_run`,
and return a `Change`. Commands that only read go with `conn.read`, writes with
`conn.run` or `conn.put`: planning runs through a connection that refuses writes.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kit.facts import gather_facts
    from kit.runner.archives import download, download_and_extract, extract
    from kit.runner.change import Change
    from kit.runner.commands import check, must_run, run, run_with_options
    from kit.runner.files import (
        chmod,
        chown,
        create_symlink,
        exists,
        get_sha256,
        is_dir,
        look_path,
        mkdirp,
        read_file,
        remove,
        write_file,
    )
    from kit.runner.firewall import FirewallRule, configure_firewall, disable_firewall
    from kit.runner.kernel import (
        configure_module_on_boot,
        get_sysctl,
        is_module_loaded,
        load_module,
        set_sysctl,
        sysctl_state,
        unload_module,
    )
    from kit.runner.network import (
        add_host_entry,
        get_interface_addresses,
        is_port_open,
        set_hostname,
        wait_for_port,
    )
    from kit.runner.packages import (
        add_repository,
        install_packages,
        is_package_installed,
        remove_packages,
        update_package_cache,
    )
    from kit.runner.services import (
        daemon_reload,
        deploy_and_enable_service,
        disable_service,
        enable_service,
        is_service_active,
        restart_service,
        start_service,
        stop_service,
    )
    from kit.runner.storage import ensure_mount, is_mounted, make_filesystem, mount, unmount
    from kit.runner.swap import disable_swap, is_swap_enabled
    from kit.runner.system import reboot, set_timezone, sync_time
    from kit.runner.templates import render, render_to_string
    from kit.runner.users import (
        UserModifications,
        add_group,
        add_user,
        configure_sudoer,
        group_exists,
        modify_user,
        set_user_password,
        user_exists,
    )

# Each operation loads with its module on first use, so that a run which only checks never
# pays for the modules (and their imports) that only --fix needs. __import__ rather than
# importlib.import_module: only the former shows in `python -X importtime`.
_HOMES = {
    "Change": "kit.runner.change",
    "FirewallRule": "kit.runner.firewall",
    "UserModifications": "kit.runner.users",
    "add_group": "kit.runner.users",
    "add_host_entry": "kit.runner.network",
    "add_repository": "kit.runner.packages",
    "add_user": "kit.runner.users",
    "check": "kit.runner.commands",
    "chmod": "kit.runner.files",
    "chown": "kit.runner.files",
    "configure_firewall": "kit.runner.firewall",
    "configure_module_on_boot": "kit.runner.kernel",
    "configure_sudoer": "kit.runner.users",
    "create_symlink": "kit.runner.files",
    "daemon_reload": "kit.runner.services",
    "deploy_and_enable_service": "kit.runner.services",
    "disable_firewall": "kit.runner.firewall",
    "disable_service": "kit.runner.services",
    "disable_swap": "kit.runner.swap",
    "download": "kit.runner.archives",
    "download_and_extract": "kit.runner.archives",
    "enable_service": "kit.runner.services",
    "ensure_mount": "kit.runner.storage",
    "exists": "kit.runner.files",
    "extract": "kit.runner.archives",
    "gather_facts": "kit.facts",
    "get_interface_addresses": "kit.runner.network",
    "get_sha256": "kit.runner.files",
    "get_sysctl": "kit.runner.kernel",
    "group_exists": "kit.runner.users",
    "install_packages": "kit.runner.packages",
    "is_dir": "kit.runner.files",
    "is_module_loaded": "kit.runner.kernel",
    "is_mounted": "kit.runner.storage",
    "is_package_installed": "kit.runner.packages",
    "is_port_open": "kit.runner.network",
    "is_service_active": "kit.runner.services",
    "is_swap_enabled": "kit.runner.swap",
    "load_module": "kit.runner.kernel",
    "look_path": "kit.runner.files",
    "make_filesystem": "kit.runner.storage",
    "mkdirp": "kit.runner.files",
    "modify_user": "kit.runner.users",
    "mount": "kit.runner.storage",
    "must_run": "kit.runner.commands",
    "read_file": "kit.runner.files",
    "reboot": "kit.runner.system",
    "remove": "kit.runner.files",
    "remove_packages": "kit.runner.packages",
    "render": "kit.runner.templates",
    "render_to_string": "kit.runner.templates",
    "restart_service": "kit.runner.services",
    "run": "kit.runner.commands",
    "run_with_options": "kit.runner.commands",
    "set_hostname": "kit.runner.network",
    "set_sysctl": "kit.runner.kernel",
    "set_timezone": "kit.runner.system",
    "set_user_password": "kit.runner.users",
    "start_service": "kit.runner.services",
    "stop_service": "kit.runner.services",
    "sync_time": "kit.runner.system",
    "sysctl_state": "kit.runner.kernel",
    "unload_module": "kit.runner.kernel",
    "unmount": "kit.runner.storage",
    "update_package_cache": "kit.runner.packages",
    "user_exists": "kit.runner.users",
    "wait_for_port": "kit.runner.network",
    "write_file": "kit.runner.files",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is not None:
        __import__(home)
        value = getattr(sys.modules[home], name)
        globals()[name] = value
        return value
    # `kit.runner.kernel` after a bare `import kit.runner`, as when the package loaded them all.
    if not name.startswith("_"):
        try:
            __import__(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
        else:
            return sys.modules[f"{__name__}.{name}"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})


__all__ = [
    "Change",
    "FirewallRule",
    "UserModifications",
    "add_group",
    "add_host_entry",
    "add_repository",
    "add_user",
    "check",
    "chmod",
    "chown",
    "configure_firewall",
    "configure_module_on_boot",
    "configure_sudoer",
    "create_symlink",
    "daemon_reload",
    "deploy_and_enable_service",
    "disable_firewall",
    "disable_service",
    "disable_swap",
    "download",
    "download_and_extract",
    "enable_service",
    "ensure_mount",
    "exists",
    "extract",
    "gather_facts",
    "get_interface_addresses",
    "get_sha256",
    "get_sysctl",
    "group_exists",
    "install_packages",
    "is_dir",
    "is_module_loaded",
    "is_mounted",
    "is_package_installed",
    "is_port_open",
    "is_service_active",
    "is_swap_enabled",
    "load_module",
    "look_path",
    "make_filesystem",
    "mkdirp",
    "modify_user",
    "mount",
    "must_run",
    "read_file",
    "reboot",
    "remove",
    "remove_packages",
    "render",
    "render_to_string",
    "restart_service",
    "run",
    "run_with_options",
    "set_hostname",
    "set_sysctl",
    "set_timezone",
    "set_user_password",
    "start_service",
    "stop_service",
    "sync_time",
    "sysctl_state",
    "unload_module",
    "unmount",
    "update_package_cache",
    "user_exists",
    "wait_for_port",
    "write_file",
]
