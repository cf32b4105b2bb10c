"""Kernel state, live and at boot, by concern: modules (`modules`), sysctls (`sysctl`),
the kernel's build configuration (`kconfig`), cgroup controllers and the next boot's
command line through the boot loader (`boot`); `confs` reads and edits the configuration
directories the first two share.

Runtime and persistent state are both set: a module is loaded now and listed in a
managed modules-load.d file; a sysctl is written with `sysctl -w` and in one managed
sysctl.d file. Path constants are keyword arguments so that tests and unusual hosts can
point them elsewhere. Every name is offered here too, as `kit.runner.kernel.NAME`, which
checks and remediations call.
"""

from __future__ import annotations

from kit.runner.kernel.boot import (
    GRUB_CFGS,
    GRUB_DEFAULT,
    GRUB_DROPINS,
    GRUB_MANAGED,
    CgroupState,
    cgroup_state_of,
    enable_cgroup_controller,
    parse_cgroup_state,
    read_cgroup_state,
    unify_cgroups,
)
from kit.runner.kernel.kconfig import (
    GATHERED_KCONFIG,
    kernel_config_of,
    kernel_config_paths,
    parse_kernel_config,
    read_kernel_config,
)
from kit.runner.kernel.modules import (
    MODPROBE_D,
    MODPROBE_DIRS,
    MODULES_LOAD_D,
    MODULES_LOAD_DIRS,
    PROC_MODULES,
    blocked_by,
    configure_module_on_boot,
    is_module_loaded,
    load_module,
    modules_at_boot,
    parse_modules_builtin,
    parse_proc_modules,
    unload_module,
)
from kit.runner.kernel.sysctl import (
    AT_LEAST,
    INCLUDES,
    MANAGED_SYSCTL,
    SYSCTL_DIRS,
    SysctlState,
    boot_order,
    describe_meets,
    describe_wanted,
    format_port_ranges,
    get_sysctl,
    meets,
    parse_port_ranges,
    satisfies,
    set_sysctl,
    set_sysctl_including,
    sysctl_at_boot,
    sysctl_state,
    wanted_value,
)

__all__ = [
    "AT_LEAST",
    "GATHERED_KCONFIG",
    "GRUB_CFGS",
    "GRUB_DEFAULT",
    "GRUB_DROPINS",
    "GRUB_MANAGED",
    "INCLUDES",
    "MANAGED_SYSCTL",
    "MODPROBE_D",
    "MODPROBE_DIRS",
    "MODULES_LOAD_D",
    "MODULES_LOAD_DIRS",
    "PROC_MODULES",
    "SYSCTL_DIRS",
    "CgroupState",
    "SysctlState",
    "blocked_by",
    "boot_order",
    "cgroup_state_of",
    "configure_module_on_boot",
    "describe_meets",
    "describe_wanted",
    "enable_cgroup_controller",
    "format_port_ranges",
    "get_sysctl",
    "is_module_loaded",
    "kernel_config_of",
    "kernel_config_paths",
    "load_module",
    "meets",
    "modules_at_boot",
    "parse_cgroup_state",
    "parse_kernel_config",
    "parse_modules_builtin",
    "parse_port_ranges",
    "parse_proc_modules",
    "read_cgroup_state",
    "read_kernel_config",
    "satisfies",
    "set_sysctl",
    "set_sysctl_including",
    "sysctl_at_boot",
    "sysctl_state",
    "unify_cgroups",
    "unload_module",
    "wanted_value",
]
