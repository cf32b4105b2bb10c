"""Kernel operations on this machine, with every path pointed into a temp dir.

Only reads reach the live kernel: set_sysctl is called with the value a key
already has (or with dry_run), and modules are "loaded" through a
/proc/modules stand-in file.
"""

import os

import pytest

from kit.errors import FixRefused, KitError, KitValueError
from kit.runner import kernel
from tests.local.recording import RecordingConnection, modprobe_stand_in


@pytest.fixture
def conn():
    return RecordingConnection()


def _live(key):
    with open("/proc/sys/" + key.replace(".", "/")) as f:
        return " ".join(f.read().split())


@pytest.fixture
def sysctl_paths(tmp_path):
    etc = tmp_path / "etc" / "sysctl.d"
    lib = tmp_path / "usr" / "lib" / "sysctl.d"
    etc.mkdir(parents=True)
    lib.mkdir(parents=True)
    return {
        "managed_file": str(etc / os.path.basename(kernel.MANAGED_SYSCTL)),
        "dirs": (str(etc), str(lib)),
    }


# -- sysctl --------------------------------------------------------------------


def test_get_sysctl_reads_the_live_value_with_blanks_collapsed(conn):
    assert kernel.get_sysctl(conn, "net.ipv4.ip_local_port_range") == _live(
        "net.ipv4.ip_local_port_range"
    )
    assert "\t" not in kernel.get_sysctl(conn, "net.ipv4.ip_local_port_range")
    with pytest.raises(KitError, match=r"net\.nope"):
        kernel.get_sysctl(conn, "net.nope.nothing")


@pytest.mark.parametrize("key", ["", "net..x;reboot", "-a", "net.*.x", "a b"])
def test_bad_keys_fail_before_anything_runs(conn, key):
    with pytest.raises(KitValueError):
        kernel.set_sysctl(conn, None, key, "1", dry_run=True)
    assert conn.commands == []


def test_set_sysctl_to_the_live_value_only_writes_the_managed_file_once(conn, sysctl_paths):
    key = "net.ipv4.ip_local_port_range"
    live = _live(key)
    first = kernel.set_sysctl(conn, None, key, live.replace(" ", "\t"), **sysctl_paths)
    assert first.changed and not any("sysctl -q -w" in c for c in conn.commands)
    with open(sysctl_paths["managed_file"]) as f:
        assert f.read().endswith(f"\n{key} = {live}\n")
    conn.reset()
    again = kernel.set_sysctl(conn, None, key, live, **sysctl_paths)
    assert not again.changed and not conn.writes()


def test_a_live_zero_is_a_value_not_a_missing_one(conn, sysctl_paths):
    candidates = [
        "net.ipv4.ip_forward",
        "net.ipv4.tcp_syncookies",
        "kernel.sysrq",
        "vm.overcommit_memory",
    ]
    key = next((k for k in candidates if _live(k) == "0"), None)
    if key is None:
        pytest.skip("no candidate sysctl reads 0 on this machine")
    kernel.set_sysctl(conn, None, key, 0, **sysctl_paths)
    conn.reset()
    assert not kernel.set_sysctl(conn, None, key, 0, **sysctl_paths).changed
    assert not conn.writes()


def test_dry_run_with_another_value_plans_both_writes_and_sends_neither(conn, sysctl_paths):
    key = "net.ipv4.ip_forward"
    other = "1" if _live(key) == "0" else "0"
    plan = kernel.set_sysctl(conn, None, key, other, dry_run=True, **sysctl_paths)
    assert plan.changed and plan.dry_run
    assert "(live)" in plan.summary and os.path.basename(kernel.MANAGED_SYSCTL) in plan.diff
    assert not conn.writes() and _live(key) != other


def _debian_sysctl_conf(tmp_path, text):
    """Debian 11 and 12: /etc/sysctl.conf, read at boot through the 99-sysctl.conf link
    (procps ships both; Debian 13's procps ships neither)."""
    conf = tmp_path / "etc" / "sysctl.conf"
    conf.write_text(text)
    (tmp_path / "etc" / "sysctl.d" / "99-sysctl.conf").symlink_to("../sysctl.conf")
    return conf


def test_the_drop_in_sorts_after_99_sysctl_conf_and_sysctl_conf_is_left_alone(
    conn, sysctl_paths, tmp_path
):
    """systemd-sysctl applies files by name (sysctl.d(5)); the managed drop-in sorts after
    Debian's 99-sysctl.conf, so it wins at boot without editing /etc/sysctl.conf, which
    procps and installers own. The file it overrides is named in the change."""
    key = "net.ipv4.ip_forward"
    live = _live(key)
    other = "1" if live == "0" else "0"
    _, lib = sysctl_paths["dirs"]
    with open(sysctl_paths["managed_file"], "w") as f:
        f.write(f"# mine\n{key} = {other}\nvm.swappiness = 10\n")
    with open(f"{lib}/10-vendor.conf", "w") as f:  # before ours: harmless, left alone
        f.write(f"{key}={other}\n")
    original = f"# Debian's\nnet/ipv4/ip_forward = {other}\nvm.swappiness = 60\n"
    conf = _debian_sysctl_conf(tmp_path, original)
    before = kernel.sysctl_state(conn, key, dirs=sysctl_paths["dirs"])
    assert before.persistent_file == sysctl_paths["managed_file"]
    change = kernel.set_sysctl(conn, None, key, live, **sysctl_paths)
    assert f"{tmp_path}/etc/sysctl.d/99-sysctl.conf sets {other}" in change.summary
    with open(sysctl_paths["managed_file"]) as f:
        assert f.read() == f"# mine\n{key} = {live}\nvm.swappiness = 10\n"
    assert conf.read_text() == original
    assert (tmp_path / "etc" / "sysctl.d" / "99-sysctl.conf").is_symlink()
    with open(f"{lib}/10-vendor.conf") as f:
        assert f.read() == f"{key}={other}\n"
    after = kernel.sysctl_state(conn, key, dirs=sysctl_paths["dirs"])
    assert after.persistent_file == sysctl_paths["managed_file"] and after.consistent
    conn.reset()
    again = kernel.set_sysctl(conn, None, key, live, **sysctl_paths)
    assert not again.changed and not conn.writes()


def test_without_sysctl_conf_the_drop_in_is_made_as_on_debian_13(conn, sysctl_paths):
    key = "net.ipv4.ip_forward"
    live = _live(key)
    change = kernel.set_sysctl(conn, None, key, live, **sysctl_paths)
    assert change.changed
    state = kernel.sysctl_state(conn, key, dirs=sysctl_paths["dirs"])
    assert state.persistent_file == sysctl_paths["managed_file"] and state.consistent


def test_a_later_file_setting_another_value_is_refused_naming_it(conn, sysctl_paths):
    key = "net.ipv4.ip_forward"
    live = _live(key)
    other = "1" if live == "0" else "0"
    _, lib = sysctl_paths["dirs"]
    with open(f"{lib}/zz-vendor.conf", "w") as f:  # sorts after the drop-in
        f.write(f"kernel.sysrq = 1\n{key}={other}\n")
    with pytest.raises(FixRefused, match=rf"{lib}/zz-vendor.conf sets {key}={other}.*after"):
        kernel.set_sysctl(conn, None, key, live, **sysctl_paths)
    assert not conn.writes()
    assert not os.path.exists(sysctl_paths["managed_file"])


def test_a_floor_is_met_by_a_higher_value_and_never_lowers_it(conn, sysctl_paths, tmp_path):
    key = "fs.inotify.max_user_watches"
    live = int(_live(key))
    conf = _debian_sysctl_conf(tmp_path, f"{key} = {live + 1}\n")  # above the floor
    change = kernel.set_sysctl(conn, None, key, f">={live - 1}", **sysctl_paths)
    assert not any("sysctl -q -w" in c for c in conn.commands)
    with open(sysctl_paths["managed_file"]) as f:
        assert f.read().endswith(f"\n{key} = {live}\n")  # the live value, not the floor
    assert conf.read_text() == f"{key} = {live + 1}\n" and change.changed
    conf.write_text(f"{key} = {live - 2}\n")  # below the floor: the drop-in applies after it
    kernel.set_sysctl(conn, None, key, f">={live - 1}", **sysctl_paths)
    assert conf.read_text() == f"{key} = {live - 2}\n"
    state = kernel.sysctl_state(conn, key, dirs=sysctl_paths["dirs"])
    assert state.persistent == str(live)


def test_a_masked_managed_file_is_refused(conn, sysctl_paths):
    key = "net.ipv4.ip_forward"
    os.symlink("/dev/null", sysctl_paths["managed_file"])
    with pytest.raises(KitError, match="masked or hidden"):
        kernel.set_sysctl(conn, None, key, _live(key), dry_run=True, **sysctl_paths)


def test_sysctl_state_follows_boot_order(conn, sysctl_paths, tmp_path):
    key = "net.ipv4.ip_forward"
    etc, lib = sysctl_paths["dirs"]
    with open(f"{lib}/50-a.conf", "w") as f:
        f.write(f"{key} = 7\n")
    with open(f"{etc}/50-a.conf", "w") as f:  # hides the vendor file of the same name
        f.write(f"{key} = 5\n")
    with open(f"{lib}/60-b.conf", "w") as f:
        f.write(f"{key} = 6\n")
    kw = {"dirs": sysctl_paths["dirs"]}
    state = kernel.sysctl_state(conn, key, **kw)
    assert (state.live, state.persistent, state.persistent_file) == (
        _live(key),
        "6",
        f"{lib}/60-b.conf",
    )
    assert not state.consistent
    # /etc/sysctl.conf alone is not read by systemd-sysctl...
    conf = tmp_path / "etc" / "sysctl.conf"
    conf.write_text(f"{key}={_live(key)}\n")
    assert kernel.sysctl_state(conn, key, **kw).persistent_file == f"{lib}/60-b.conf"
    # ...only through a link such as Debian's 99-sysctl.conf.
    (tmp_path / "etc" / "sysctl.d" / "99-sysctl.conf").symlink_to("../sysctl.conf")
    state = kernel.sysctl_state(conn, key, **kw)
    assert state.persistent_file == f"{etc}/99-sysctl.conf" and state.consistent
    # A /dev/null link masks the vendor file of that name.
    (tmp_path / "etc" / "sysctl.d" / "99-sysctl.conf").unlink()
    (tmp_path / "etc" / "sysctl.d" / "60-b.conf").symlink_to("/dev/null")
    assert kernel.sysctl_state(conn, key, **kw).persistent == "5"


# -- modules -------------------------------------------------------------------


@pytest.fixture
def module_paths(tmp_path):
    (tmp_path / "modprobe.d").mkdir()
    (tmp_path / "modules-load.d").mkdir()
    proc = tmp_path / "proc-modules"
    proc.write_text("overlay 151552 0 - Live 0x0\nbr_netfilter 32768 0 - Live 0x0\n")
    builtin = tmp_path / "modules.builtin"
    builtin.write_text("kernel/fs/ext4/ext4.ko\nkernel/drivers/block/loop.ko\n")
    return tmp_path, {"proc_modules": str(proc), "modules_builtin": str(builtin)}


def test_is_module_loaded_reads_proc_modules_and_builtins(conn, module_paths):
    _, paths = module_paths
    assert kernel.is_module_loaded(conn, "br-netfilter", **paths)
    assert kernel.is_module_loaded(conn, "loop", **paths)
    assert not kernel.is_module_loaded(conn, "dummy", **paths)
    # No /proc/modules: none loaded (modules.builtin given, which does not list overlay;
    # this machine's own kernel has overlay built in).
    assert not kernel.is_module_loaded(
        conn,
        "overlay",
        proc_modules="/nonexistent/modules",
        modules_builtin=paths["modules_builtin"],
    )
    with pytest.raises(KitValueError):
        kernel.is_module_loaded(conn, "a;b")


def test_load_module_already_loaded_configures_boot_once(conn, module_paths):
    root, paths = module_paths
    kw = {
        **paths,
        "modprobe_dirs": (str(root / "modprobe.d"),),
        "modules_load_d": str(root / "modules-load.d"),
        "modprobe_d": str(root / "modprobe.d"),
    }
    change = kernel.load_module(conn, None, "br_netfilter", persistent=True, **kw)
    assert change.changed and not any("modprobe " in c for c in conn.commands)
    assert (
        (root / "modules-load.d" / "hostkit-br_netfilter.conf")
        .read_text()
        .endswith("\nbr_netfilter\n")
    )
    conn.reset()
    assert not kernel.load_module(conn, None, "br_netfilter", persistent=True, **kw).changed
    assert not conn.writes()


def test_load_module_built_into_the_kernel_does_nothing(conn, module_paths):
    """A built-in module is there from the first instant of every boot: no modprobe,
    no modules-load.d file (the module check passes on it as it is)."""
    root, paths = module_paths
    kw = {
        **paths,
        "modprobe_dirs": (str(root / "modprobe.d"),),
        "modules_load_d": str(root / "modules-load.d"),
        "modprobe_d": str(root / "modprobe.d"),
    }
    change = kernel.load_module(conn, None, "loop", persistent=True, **kw)
    assert not change.changed and "built into the kernel" in change.summary
    assert not conn.writes() and not list((root / "modules-load.d").iterdir())


def test_load_module_dry_run_plans_modprobe_without_running_it(module_paths):
    root, paths = module_paths
    conn = RecordingConnection(path_prefix=modprobe_stand_in(root / "bin"))
    kw = {**paths, "modprobe_dirs": (str(root / "modprobe.d"),)}
    plan = kernel.load_module(conn, None, "dummy", ["numdummies=2"], dry_run=True, **kw)
    assert plan.changed and plan.dry_run and not conn.writes()


def test_a_blocked_module_raises_naming_the_file(conn, module_paths):
    root, _ = module_paths
    block = root / "modprobe.d" / "cis.conf"
    block.write_text("# CIS\ninstall  cramfs /bin/true\n")
    for op in (kernel.load_module, kernel.configure_module_on_boot):
        with pytest.raises(KitError, match="cramfs") as info:
            op(conn, None, "cramfs", dry_run=True, modprobe_dirs=(str(root / "modprobe.d"),))
        assert str(block) in str(info.value)
    assert not conn.writes()


def test_configure_module_on_boot_writes_options_and_replaces_them(conn, module_paths):
    root, _ = module_paths
    kw = {
        "modprobe_dirs": (str(root / "modprobe.d"),),
        "modules_load_d": str(root / "modules-load.d"),
        "modprobe_d": str(root / "modprobe.d"),
    }
    opts = root / "modprobe.d" / "hostkit-nf_conntrack.conf"
    assert kernel.configure_module_on_boot(conn, None, "nf_conntrack", ["hashsize=1"], **kw).changed
    assert opts.read_text().endswith("\noptions nf_conntrack hashsize=1\n")
    conn.reset()
    assert not kernel.configure_module_on_boot(
        conn, None, "nf_conntrack", ["hashsize=1"], **kw
    ).changed
    assert not conn.writes()
    kernel.configure_module_on_boot(conn, None, "nf_conntrack", ["hashsize=2"], **kw)
    assert opts.read_text().count("options") == 1 and "hashsize=2" in opts.read_text()
    with pytest.raises(KitValueError):
        kernel.configure_module_on_boot(conn, None, "nf_conntrack", "hashsize=2", **kw)


def test_unload_module_not_loaded_or_builtin(conn, module_paths):
    _, paths = module_paths
    assert not kernel.unload_module(conn, None, "dummy", **paths).changed
    with pytest.raises(KitError, match="built into"):
        kernel.unload_module(conn, None, "ext4", **paths)
    assert kernel.unload_module(conn, None, "overlay", dry_run=True, **paths).changed
    assert not conn.writes()


def test_boot_order_is_by_name_with_earlier_directories_hiding_later_ones():
    files = [
        ("/etc/sysctl.d/50-x.conf", "a"),
        ("/usr/lib/sysctl.d/10-y.conf", "b"),
        ("/usr/lib/sysctl.d/50-x.conf", "hidden"),
        ("/usr/lib/sysctl.d/60-z.conf", "masked"),
        ("/etc/sysctl.d/99-sysctl.conf", "via the link"),
        ("/etc/sysctl.conf", "not read"),
    ]
    links = {"/etc/sysctl.d/60-z.conf": "/dev/null"}
    order = [t for _, t in kernel.boot_order(files, links)]
    assert order == ["b", "a", "via the link"]


def test_boot_files_go_into_directories_created_when_missing(conn, tmp_path):
    kw = {
        "modprobe_dirs": (),
        "modules_load_d": str(tmp_path / "none-yet" / "modules-load.d"),
        "modprobe_d": str(tmp_path / "none-yet" / "modprobe.d"),
    }
    plan = kernel.configure_module_on_boot(
        conn, None, "dummy", ["numdummies=1"], dry_run=True, **kw
    )
    assert plan.changed and not (tmp_path / "none-yet").exists() and not conn.writes()
    kernel.configure_module_on_boot(conn, None, "dummy", ["numdummies=1"], **kw)
    opts = tmp_path / "none-yet" / "modprobe.d" / "hostkit-dummy.conf"
    assert opts.read_text().endswith("options dummy numdummies=1\n")
    assert oct(opts.stat().st_mode & 0o777) == "0o644"


@pytest.mark.parametrize("value", ["", "1\n2", True])
def test_bad_values_fail_before_anything_runs(conn, value):
    with pytest.raises(KitValueError):
        kernel.set_sysctl(conn, None, "net.ipv4.ip_forward", value, dry_run=True)
    assert conn.commands == []


@pytest.mark.parametrize("name", ["-r", "--all", "-v"])
def test_option_shaped_module_names_fail_before_anything_runs(conn, module_paths, name):
    root, paths = module_paths
    kw = {
        "modprobe_dirs": (str(root / "modprobe.d"),),
        "modules_load_d": str(root / "modules-load.d"),
        "modprobe_d": str(root / "modprobe.d"),
    }
    with pytest.raises(KitValueError, match="module name"):
        kernel.load_module(conn, None, name, persistent=True, **paths, **kw)
    with pytest.raises(KitValueError, match="module name"):
        kernel.configure_module_on_boot(conn, None, name, **kw)
    with pytest.raises(KitValueError, match="module name"):
        kernel.unload_module(conn, None, name, **paths)
    assert conn.commands == []
    assert list((root / "modules-load.d").iterdir()) == []


STAND_IN_MODPROBE = """#!/bin/sh
printf '%s\\n' "$@" >> {log}
"""


def test_modprobe_gets_the_name_after_end_of_options(module_paths):
    root, paths = module_paths
    bin_dir = root / "bin"
    bin_dir.mkdir()
    log = root / "modprobe.log"
    tool = bin_dir / "modprobe"
    tool.write_text(STAND_IN_MODPROBE.format(log=log))
    tool.chmod(0o755)
    conn = RecordingConnection(path_prefix=str(bin_dir))
    kw = {**paths, "modprobe_dirs": (str(root / "modprobe.d"),)}
    assert kernel.load_module(conn, None, "dummy", ["numdummies=2"], **kw).changed
    assert kernel.unload_module(conn, None, "overlay", **paths).changed
    assert log.read_text().splitlines() == ["--", "dummy", "numdummies=2", "-r", "--", "overlay"]


def test_set_sysctl_keeps_bytes_that_are_not_utf8(conn, sysctl_paths):
    key = "net.ipv4.ip_local_port_range"
    live = _live(key)
    managed = sysctl_paths["managed_file"]
    with open(managed, "wb") as f:
        f.write(b"# r\xe9glages \xff\nvm.x = 1\n" + f"{key} = 1 2\n".encode())
    assert kernel.set_sysctl(conn, None, key, live, **sysctl_paths).changed
    with open(managed, "rb") as f:
        assert f.read() == b"# r\xe9glages \xff\nvm.x = 1\n" + f"{key} = {live}\n".encode()
    conn.reset()
    assert not kernel.set_sysctl(conn, None, key, live, **sysctl_paths).changed
    assert not conn.writes()


def test_module_boot_file_keeps_bytes_that_are_not_utf8(conn, tmp_path):
    load_d = tmp_path / "modules-load.d"
    load_d.mkdir()
    (load_d / "hostkit-dummy.conf").write_bytes(b"# \xe9t\xe9\n")
    kw = {"modprobe_dirs": (), "modules_load_d": str(load_d), "modprobe_d": str(tmp_path)}
    assert kernel.configure_module_on_boot(conn, None, "dummy", **kw).changed
    assert (load_d / "hostkit-dummy.conf").read_bytes() == b"# \xe9t\xe9\ndummy\n"


def test_a_later_link_out_of_the_configuration_tree_is_refused(conn, sysctl_paths, tmp_path):
    key = "net.ipv4.ip_forward"
    live = _live(key)
    other = "1" if live == "0" else "0"
    vendor = tmp_path / "usr" / "share" / "zz.conf"
    vendor.parent.mkdir(parents=True)
    vendor.write_text(f"{key} = {other}\n")
    (tmp_path / "etc" / "sysctl.d" / "zz-link.conf").symlink_to(vendor)
    with pytest.raises(KitError, match=r"zz-link\.conf sets .*change or remove that line by hand"):
        kernel.set_sysctl(conn, None, key, live, **sysctl_paths)
    # Refused before the first write: not even the managed file is there.
    assert vendor.read_text() == f"{key} = {other}\n" and not conn.writes()
    assert not os.path.lexists(sysctl_paths["managed_file"])


def test_kernel_defaults_plan_all_six_tunables_in_one_change(conn):
    # The one place both k8s.sysctl.kernel-defaults and the kubelet's protectKernelDefaults
    # fix set the tunables; planned only (this machine's kernel is not changed).
    from hostkit_catalog.remediations import sysctl as fixes_sysctl
    from kit.catalog.remediation import Target

    plan = fixes_sysctl.kernel_defaults(Target(conn, None, dry_run=True))
    for key in fixes_sysctl.KERNEL_DEFAULTS:
        assert key in plan.summary
    assert not conn.writes()


# -- what systemd-modules-load does at boot (issue 23) -----------------------------------


def _boot_kw(root, paths, *dirs):
    return {
        **paths,
        "modprobe_dirs": tuple(str(root / d) for d in ("modprobe.d", *dirs)),
        "modules_load_d": str(root / "modules-load.d"),
        "modprobe_d": str(root / "modprobe.d"),
    }


def test_load_module_comments_out_what_stops_it_at_boot(conn, module_paths):
    """br_netfilter is loaded now (modprobe ignores the blacklist), but
    systemd-modules-load would skip it at boot: the fix comments the line out in the
    operator's own modprobe.d file and leaves every other line as it was."""
    root, paths = module_paths
    conf = root / "modprobe.d" / "hardening.conf"
    conf.write_text("# CIS\nblacklist br-netfilter\ninstall cramfs /bin/false\n")
    kw = _boot_kw(root, paths)
    change = kernel.load_module(conn, None, "br_netfilter", persistent=True, **kw)
    assert change.changed and str(conf) in change.diff
    assert conf.read_text() == (
        "# CIS\n# hostkit: so that br_netfilter loads at boot: blacklist br-netfilter\n"
        "install cramfs /bin/false\n"
    )
    assert not kernel.boot_blocks([(str(conf), conf.read_text())], "br_netfilter")
    conn.reset()
    assert not kernel.load_module(conn, None, "br_netfilter", persistent=True, **kw).changed
    assert not conn.writes()


def test_an_install_line_is_planned_away_before_modprobe(module_paths):
    root, paths = module_paths
    conn = RecordingConnection(path_prefix=modprobe_stand_in(root / "bin"))
    conf = root / "modprobe.d" / "cis.conf"
    conf.write_text("install dummy /bin/false\n")
    plan = kernel.load_module(
        conn, None, "dummy", persistent=True, dry_run=True, **_boot_kw(root, paths)
    )
    # Planning asks `modprobe -n` whether the module would load; it loads nothing.
    assert plan.changed and not conn.sent_any("modprobe -- ", "modprobe -r")
    assert "so that dummy loads at boot" in plan.diff and not conn.writes()


def test_a_blocking_line_in_a_vendor_file_is_refused_naming_it(conn, module_paths):
    root, paths = module_paths
    (root / "lib-modprobe.d").mkdir()
    vendor = root / "lib-modprobe.d" / "vendor.conf"
    vendor.write_text("blacklist br_netfilter\n")
    kw = _boot_kw(root, paths, "lib-modprobe.d")
    with pytest.raises(FixRefused, match=rf"{vendor}: 'blacklist br_netfilter' stops"):
        kernel.load_module(conn, None, "br_netfilter", persistent=True, **kw)
    assert not conn.writes() and vendor.read_text() == "blacklist br_netfilter\n"
    # A file of the same name in the operator's directory hides it (libkmod).
    (root / "modprobe.d" / "vendor.conf").write_text("# nothing blocked\n")
    kernel.load_module(conn, None, "br_netfilter", persistent=True, dry_run=True, **kw)


@pytest.mark.skipif(not os.path.isdir("/sys/module/ext4"), reason="no /sys/module/ext4 here")
def test_without_modules_builtin_sys_module_shows_a_built_in_module(conn, module_paths):
    # The stand-in /proc/modules reads and does not list ext4; /sys/module/ext4 exists on
    # this machine, whose kernel has no modules.builtin to say so.
    root, paths = module_paths
    kw = {**_boot_kw(root, paths), "modules_builtin": str(root / "absent" / "modules.builtin")}
    plan = kernel.load_module(conn, None, "ext4", persistent=True, dry_run=True, **kw)
    assert not plan.changed and "built into the kernel" in plan.summary


def test_the_unblocking_is_saved_journaled_and_put_back_on_rollback(module_paths):
    """The commented-out blacklist line is a file write like any other: recorded in the
    run's journal with the file saved first, and put back when the fix is rolled back."""
    import json

    from kit.connection import connect
    from kit.runner.journal import Journal

    root, paths = module_paths
    conf = root / "modprobe.d" / "hardening.conf"
    conf.write_text("blacklist br_netfilter\n")
    with connect("local://") as conn:
        record = Journal(conn, "20260101T000000Z-unblock", str(root / "runs"))
        record.open()
        with record.fix("k8s.kernel.module"):
            kernel.load_module(conn, None, "br_netfilter", persistent=True, **_boot_kw(root, paths))
            assert conf.read_text().startswith("# hostkit: so that br_netfilter loads at boot")
            record.rollback()
    assert conf.read_text() == "blacklist br_netfilter\n"
    log = (root / "runs" / record.run_id / "journal").read_text().splitlines()
    begun = [json.loads(e) for e in log if '"begin"' in e]
    assert str(conf) in [e.get("path") for e in begun]
