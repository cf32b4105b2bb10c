"""The module check's verdict, now and at the next boot, as systemd-modules-load would act.

Built in without modules.builtin (issue 23 item 6): /sys/module/NAME while /proc/modules
(readable) does not list it, CONFIG_X=y in the running kernel's config, or the module's
own sysctl keys. Blocked at boot (item 10): systemd-modules-load calls libkmod's
kmod_module_probe_insert_module with KMOD_PROBE_APPLY_BLACKLIST (systemd
src/shared/module-util.c module_load_and_warn), so a `blacklist NAME` line stops NAME
itself, while `modprobe NAME` applies only KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY (kmod
tools/modprobe.c insmod); and it runs install commands (no KMOD_PROBE_IGNORE_COMMAND), so
`install NAME /bin/false` (or /bin/true) stops every load.
"""

from __future__ import annotations

import pytest

from hostkit_catalog.checks import test_kernel
from kit.runner.kernel import modules
from tests.unit.test_catalog_verdicts import fails, load

LOADS_AT_BOOT = "@@file:/etc/modules-load.d/k8s.conf\nbr_netfilter\noverlay\n"


def node(*, loaded="ext4\n", builtin="@absent", boot=LOADS_AT_BOOT, modules_boot=None, kconfig=""):
    sections = {"modules": loaded, "modules_builtin": builtin, "boot_files": boot}
    if modules_boot is not None:
        sections["modules_boot"] = modules_boot
        sections["kernelprep_config"] = kconfig
    return load("debian12", **sections)


def boot_section(sys_module="", modprobe="", readable=True):
    return (
        "@@proc-modules-readable\n" if readable else ""
    ) + f"@@sys-module\n{sys_module}{modprobe}"


# -- built in, without modules.builtin -------------------------------------------------


def test_sys_module_without_proc_modules_shows_it_built_in():
    facts = node(modules_boot=boot_section(sys_module="overlay\next4\n"))
    test_kernel.test_module_loaded(facts, "overlay")


def test_kernel_config_y_shows_it_built_in():
    # overlay registers no sysctl and is not in /sys/module here: the config alone says it.
    built_in = node(
        modules_boot=boot_section(), kconfig="@path=/boot/config-6.1.0\nCONFIG_OVERLAY_FS=y\n"
    )
    test_kernel.test_module_loaded(built_in, "overlay")
    # =m is a module: it must be loaded like any other.
    module = node(
        modules_boot=boot_section(), kconfig="@path=/boot/config-6.1.0\nCONFIG_OVERLAY_FS=m\n"
    )
    fails(test_kernel.test_module_loaded, module, "overlay", match="not loaded now")


def test_the_modules_own_sysctl_keys_show_it_built_in():
    # The recording's /proc/sys has net/bridge/bridge-nf-call-iptables: br_netfilter's.
    facts = node(modules_boot=boot_section())
    assert "net.bridge.bridge-nf-call-iptables" in facts.sysctls
    test_kernel.test_module_loaded(facts, "br_netfilter")
    fails(test_kernel.test_module_loaded, facts, "overlay", match="not loaded now")


def test_without_a_readable_proc_modules_nothing_is_called_built_in():
    # /proc/modules unreadable: /sys/module and sysctl keys say "present", not "built in".
    facts = node(loaded="@absent", modules_boot=boot_section("overlay\n", readable=False))
    fails(test_kernel.test_module_loaded, facts, "overlay", match="not loaded now")
    fails(test_kernel.test_module_loaded, facts, "br_netfilter", match="not loaded now")


def test_modules_builtin_when_present_is_the_answer():
    facts = node(
        builtin="kernel/fs/ext4/ext4.ko\n", modules_boot=boot_section(sys_module="overlay\n")
    )
    fails(test_kernel.test_module_loaded, facts, "overlay", match="not loaded now")


# -- what systemd-modules-load will do at the next boot --------------------------------


def loaded_with(modprobe: str):
    files = "".join(f"@@file:{path}\n{text}" for path, text in modprobe)
    return node(loaded="br_netfilter\noverlay\n", modules_boot=boot_section(modprobe=files))


@pytest.mark.parametrize(
    "line",
    [
        "blacklist br_netfilter",
        "blacklist br-netfilter",
        "install br_netfilter /bin/false",
        "install br_netfilter /bin/true",
        "install br_netfilter /usr/bin/false",
    ],
)
def test_a_blocking_line_means_not_loaded_at_the_next_boot(line):
    facts = loaded_with([("/etc/modprobe.d/hardening.conf", f"# CIS\n{line}\n")])
    message = fails(test_kernel.test_module_loaded, facts, "br_netfilter", match="next boot")
    assert "/etc/modprobe.d/hardening.conf" in message and line in message
    test_kernel.test_module_loaded(facts, "overlay")


def test_a_module_not_loaded_now_names_the_line_that_blocks_it_at_boot():
    # The hardened host: not loaded now and blacklisted. `modprobe` by hand would load it
    # and still leave the next boot without it, so the verdict names the line too.
    files = "@@file:/etc/modprobe.d/hardening.conf\n# CIS\nblacklist br_netfilter\n"
    facts = node(
        loaded="ext4\n",
        builtin="kernel/fs/ext4/ext4.ko\n",  # a module, not built in
        modules_boot=boot_section(modprobe=files),
    )
    message = fails(test_kernel.test_module_loaded, facts, "br_netfilter", match="not loaded now")
    assert "/etc/modprobe.d/hardening.conf has 'blacklist br_netfilter'" in message, message


@pytest.mark.parametrize(
    "text",
    [
        "# blacklist br_netfilter\n",
        "blacklist bridge\n",  # a dependency: APPLY_BLACKLIST looks at the module alone
        "install br_netfilter /sbin/modprobe --ignore-install br_netfilter\n",
        "options br_netfilter foo=1\n",
        "alias br_netfilter off\n",
    ],
)
def test_other_lines_do_not_block(text):
    facts = loaded_with([("/etc/modprobe.d/x.conf", text)])
    test_kernel.test_module_loaded(facts, "br_netfilter")


def test_a_file_in_etc_hides_the_vendor_file_of_that_name():
    # libkmod reads one file per name, the first along /etc, /run, /usr/local/lib, /lib.
    facts = loaded_with(
        [
            ("/etc/modprobe.d/vendor.conf", "# emptied by the admin\n"),
            ("/usr/lib/modprobe.d/vendor.conf", "blacklist br_netfilter\n"),
        ]
    )
    test_kernel.test_module_loaded(facts, "br_netfilter")
    assert modules.boot_blocks(
        [("/usr/lib/modprobe.d/vendor.conf", "blacklist br_netfilter\n")], "br_netfilter"
    ) == [("/usr/lib/modprobe.d/vendor.conf", "blacklist br_netfilter")]
