"""The runner: a stateless library of host operations.

Every operation takes the connection first, and the host's facts where the OS
matters: `runner.set_sysctl(conn, facts, "net.ipv4.ip_forward", "1")`. Writes read
first, do nothing when the host already holds the wanted state, take `dry_run`,
and return a `Change`. Commands that only read go with `conn.read`, writes with
`conn.run` or `conn.put`: planning runs through a connection that refuses writes.
"""

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
