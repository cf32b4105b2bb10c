"""Planning through the connection a remediation gets under --dry-run, on this machine.

Every runner operation is planned with dry_run=True through a PlanningConnection, which
refuses whatever the runner did not send as a read: an operation that plans without a
PlanWriteError marks all of its reads. Paths point into a temp dir; the live kernel,
users and packages are only read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kit.connection.planning import PlanningConnection
from kit.errors import PlanWriteError
from kit.facts import Facts, InitSystem, gather_facts
from kit.runner import (
    archives,
    files,
    kernel,
    network,
    packages,
    processes,
    services,
    storage,
    swap,
    system,
    users,
)
from kit.runner.change import Change
from tests.local.recording import RecordingConnection, modprobe_stand_in

HASH = "$6$saltsalt$" + "b" * 86
# Lists this machine does not use: an init system driven by files under the temp dir.
STAND_IN_INIT = InitSystem(
    type="openrc",
    start_cmd="rc-service {} start",
    stop_cmd="rc-service {} stop",
    enable_cmd="rc-update add {} default",
    disable_cmd="rc-update del {} default",
    restart_cmd="rc-service {} restart",
    is_active_cmd="test -e /run/hostkit-test-none/{}",
    daemon_reload_cmd="",
)


@pytest.fixture
def host(tmp_path: Path) -> RecordingConnection:
    # load_module plans through `modprobe -n`, which this machine lacks: a stand-in.
    return RecordingConnection(path_prefix=modprobe_stand_in(tmp_path / "stand-in-bin"))


@pytest.fixture
def planner(host: RecordingConnection) -> PlanningConnection:
    return PlanningConnection(host)


@pytest.fixture
def facts(planner: PlanningConnection) -> Facts:
    # Gathered through the planner: the facts script is a read.
    return dataclasses.replace(gather_facts(planner), init_system=STAND_IN_INIT)


def _live(key: str) -> str:
    return " ".join(Path("/proc/sys/" + key.replace(".", "/")).read_text().split())


def _snapshot(root: Path) -> dict[str, tuple[str, int, bytes]]:
    """Every path under root: its kind, mode and content (a link's target)."""
    seen = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath, name)
            st = p.lstat()
            if p.is_symlink():
                seen[str(p)] = ("link", st.st_mode, os.readlink(p).encode())
            elif p.is_dir():
                seen[str(p)] = ("dir", st.st_mode, b"")
            else:
                seen[str(p)] = ("file", st.st_mode, p.read_bytes())
    return seen


def _setup(tmp: Path) -> dict[str, str]:
    (tmp / "old").write_text("old\n")
    (tmp / "old").chmod(0o644)
    (tmp / "gone").write_text("x\n")
    (tmp / "tree").mkdir()
    (tmp / "tree" / "leaf").write_text("leaf\n")
    (tmp / "dir").mkdir(mode=0o755)
    (tmp / "real").write_text("through\n")
    (tmp / "link").symlink_to(tmp / "real")
    (tmp / "oldlink").symlink_to("/nowhere")
    (tmp / "hosts").write_text("127.0.0.1 localhost\n")
    (tmp / "sudoers.d").mkdir()
    for d in ("etc/sysctl.d", "lib/sysctl.d", "modprobe.d", "modules-load.d"):
        (tmp / d).mkdir(parents=True)
    (tmp / "proc_modules").write_text("loaded_mod 16384 0 - Live 0x0\n")
    (tmp / "modules.builtin").write_text("")
    (tmp / "fstab").write_text("/dev/sda1 / ext4 defaults 0 1\n/swapfile none swap sw 0 0\n")
    (tmp / "swaps").write_text("Filename Type Size Used Priority\n/swapfile file 1024 0 -2\n")
    (tmp / "mounts").write_text("/dev/sda1 / ext4 rw 0 0\n")
    (tmp / "device").write_bytes(b"\0" * 4096)
    (tmp / "localtime").symlink_to("/usr/share/zoneinfo/Etc/UTC")
    (tmp / "timezone").write_text("Etc/UTC\n")
    (tmp / "hostname").write_text("old-name\n")
    return {k: str(tmp / k) for k in ("old", "gone", "tree", "dir", "link", "oldlink")}


Plan = Callable[[PlanningConnection, Facts, Path], Change]

OPERATIONS: dict[str, Plan] = {
    "write_file new": lambda c, f, t: files.write_file(
        c, str(t / "new"), "new\n", mode="0600", dry_run=True
    ),
    "write_file changed": lambda c, f, t: files.write_file(
        c, str(t / "old"), "other\n", mode="0640", owner="root", dry_run=True
    ),
    "write_file through a link": lambda c, f, t: files.write_file(
        c, str(t / "link"), "changed\n", dry_run=True
    ),
    "remove file": lambda c, f, t: files.remove(c, str(t / "gone"), dry_run=True),
    "remove tree": lambda c, f, t: files.remove(c, str(t / "tree"), recursive=True, dry_run=True),
    "chmod": lambda c, f, t: files.chmod(c, str(t / "old"), "0600", dry_run=True),
    "chown": lambda c, f, t: files.chown(c, str(t / "old"), "nobody", dry_run=True),
    "chown recursive": lambda c, f, t: files.chown(
        c, str(t / "tree"), None, "nogroup", recursive=True, dry_run=True
    ),
    "mkdirp new": lambda c, f, t: files.mkdirp(c, str(t / "a" / "b"), mode="0700", dry_run=True),
    "mkdirp mode": lambda c, f, t: files.mkdirp(c, str(t / "dir"), mode="0700", dry_run=True),
    "create_symlink new": lambda c, f, t: files.create_symlink(
        c, "/etc/hostname", str(t / "newlink"), dry_run=True
    ),
    "create_symlink replace": lambda c, f, t: files.create_symlink(
        c, "/etc/hostname", str(t / "oldlink"), dry_run=True
    ),
    "set_sysctl": lambda c, f, t: kernel.set_sysctl(
        c,
        f,
        "net.ipv4.ip_forward",
        "1" if _live("net.ipv4.ip_forward") == "0" else "0",
        dry_run=True,
        managed_file=str(t / "etc/sysctl.d/99-hostkit.conf"),
        dirs=(str(t / "etc/sysctl.d"), str(t / "lib/sysctl.d")),
    ),
    "load_module persistent": lambda c, f, t: kernel.load_module(
        c,
        f,
        "hostkit_test_mod",
        ["opt=1"],
        persistent=True,
        dry_run=True,
        proc_modules=str(t / "proc_modules"),
        modules_builtin=str(t / "modules.builtin"),
        modprobe_dirs=(str(t / "modprobe.d"),),
        modules_load_d=str(t / "modules-load.d"),
        modprobe_d=str(t / "modprobe.d"),
    ),
    "unload_module": lambda c, f, t: kernel.unload_module(
        c,
        f,
        "loaded_mod",
        dry_run=True,
        proc_modules=str(t / "proc_modules"),
        modules_builtin=str(t / "modules.builtin"),
    ),
    "add_host_entry": lambda c, f, t: network.add_host_entry(
        c, "10.9.8.7", "node.example", "node", hosts_file=str(t / "hosts"), dry_run=True
    ),
    "set_hostname": lambda c, f, t: network.set_hostname(
        c, f, "new-name", hostname_file=str(t / "hostname"), dry_run=True
    ),
    "configure_sudoer": lambda c, f, t: users.configure_sudoer(
        c, "deploy", "deploy ALL=(ALL) ALL\n", directory=str(t / "sudoers.d"), dry_run=True
    ),
    "add_user": lambda c, f, t: users.add_user(c, "hostkit-nouser", dry_run=True),
    "add_group": lambda c, f, t: users.add_group(c, "hostkit-nogroup", dry_run=True),
    "modify_user": lambda c, f, t: users.modify_user(
        c, "root", users.UserModifications(shell="/bin/hostkit-sh"), dry_run=True
    ),
    "set_user_password": lambda c, f, t: users.set_user_password(c, "root", HASH, dry_run=True),
    "disable_swap": lambda c, f, t: swap.disable_swap(
        c,
        None,
        dry_run=True,
        fstab=str(t / "fstab"),
        proc_swaps=str(t / "swaps"),
        systemd_runtime=str(t / "no-systemd"),
    ),
    "ensure_mount": lambda c, f, t: storage.ensure_mount(
        c,
        "/dev/hostkit-test",
        str(t / "mnt"),
        "ext4",
        dry_run=True,
        fstab=str(t / "fstab"),
        mounts=str(t / "mounts"),
    ),
    "make_filesystem": lambda c, f, t: storage.make_filesystem(
        c, str(t / "device"), "ext4", dry_run=True
    ),
    "set_timezone": lambda c, f, t: system.set_timezone(
        c,
        f,
        "Europe/Berlin",
        localtime=str(t / "localtime"),
        timezone_file=str(t / "timezone"),
        dry_run=True,
    ),
    "install_packages": lambda c, f, t: packages.install_packages(
        c, f, "hostkit-no-such-package", dry_run=True
    ),
    "remove_packages": lambda c, f, t: packages.remove_packages(c, f, "coreutils", dry_run=True),
    "update_package_cache": lambda c, f, t: packages.update_package_cache(
        c, f, max_age=0, dry_run=True
    ),
    "deploy_and_enable_service": lambda c, f, t: services.deploy_and_enable_service(
        c, f, "hostkit-test", "#!/bin/sh\n", path=str(t / "init.d-unit"), dry_run=True
    ),
    "disable_service": lambda c, f, t: services.disable_service(c, f, "hostkit-test", dry_run=True),
    "download_and_extract": lambda c, f, t: archives.download_and_extract(
        c,
        "https://example.invalid/pkg.tar.gz",
        str(t / "out"),
        sha256=hashlib.sha256(b"").hexdigest(),
        cache_dir=str(t / "cache"),
        dry_run=True,
    ),
}


@pytest.mark.parametrize("op", list(OPERATIONS))
def test_each_operation_plans_through_reads_alone(op, planner, facts, host, tmp_path):
    _setup(tmp_path)
    before = _snapshot(tmp_path)
    host.reset()
    plan = OPERATIONS[op](planner, facts, tmp_path)
    if op != "disable_service":  # the stand-in service is neither enabled nor running
        assert plan.changed and plan.dry_run, plan.summary
    assert host.sent, "planning read nothing"
    assert _snapshot(tmp_path) == before


def test_kill_process_plans_through_reads_alone(planner, host):
    with subprocess.Popen(["sleep", "30"]) as child:
        try:
            plan = processes.kill_process(planner, child.pid, dry_run=True)
            assert plan.changed and child.poll() is None
        finally:
            child.kill()


FORGETFUL: dict[str, tuple[Plan, str]] = {
    "write_file": (lambda c, f, t: files.write_file(c, str(t / "new"), "x\n"), "put {t}/new"),
    "remove": (lambda c, f, t: files.remove(c, str(t / "gone")), "rm -f -- {t}/gone"),
    "chmod": (lambda c, f, t: files.chmod(c, str(t / "old"), "0600"), "chmod 600 -- {t}/old"),
    "mkdirp": (
        lambda c, f, t: files.mkdirp(c, str(t / "a"), mode="0700"),
        "mkdir -p -- {t}/a && chmod 700 -- {t}/a",
    ),
    "unload_module": (
        lambda c, f, t: kernel.unload_module(
            c, f, "loaded_mod", proc_modules=str(t / "proc_modules")
        ),
        "modprobe -r -- loaded_mod",
    ),
    "add_user": (
        lambda c, f, t: users.add_user(c, "hostkit-nouser"),
        "useradd -m -- hostkit-nouser",
    ),
}


@pytest.mark.parametrize("op", list(FORGETFUL))
def test_a_write_sent_while_planning_is_refused_and_named(op, planner, facts, tmp_path):
    """Operations called as a remediation that forgets dry_run calls them: nothing is
    written, and the error names the first write."""
    _setup(tmp_path)
    before = _snapshot(tmp_path)
    forgetful, call = FORGETFUL[op]
    with pytest.raises(PlanWriteError) as caught:
        forgetful(planner, facts, tmp_path)
    want = "while planning, remediation tried to write: " + call.format(t=tmp_path)
    assert str(caught.value) == want
    assert _snapshot(tmp_path) == before


def test_a_long_script_is_named_on_one_short_line(planner, tmp_path):
    _setup(tmp_path)
    with pytest.raises(PlanWriteError) as caught:
        users.configure_sudoer(planner, "deploy", "deploy ALL=(ALL) ALL\n", directory=str(tmp_path))
    message = str(caught.value)
    assert "\n" not in message and len(message) < 400
    assert message.startswith("while planning, remediation tried to write: sh -c 'set -e dest=")
    assert list((tmp_path / "sudoers.d").iterdir()) == []


def test_the_planner_is_the_wrapped_connection_for_everything_but_writes(planner, host):
    assert planner.spec is host.spec and planner.name == host.name
    assert planner.read("echo %s", "hi").stdout == "hi\n"
    assert planner.get("/proc/self/status").startswith(b"Name:")
    planner.close()  # the run's connection stays open for the checks after this fix
    assert host.read("true").ok
