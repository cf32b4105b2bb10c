"""The disposable hosts themselves: reachable with verified keys, real systemd, a local
package repository, a VM with a real kernel, and a teardown that leaves nothing behind."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

import kit
import kit.testhosts
from kit.edits.grub import grub_cfg_args
from kit.errors import HostKeyRejected
from kit.testhosts import BootTimeout, TestHostError, ToolMissing, image, keys, netns, tools
from kit.testhosts import ready as ready_mod
from kit.testhosts.state import Host
from tests.hosts.conftest import boot

hosts = pytest.mark.hosts


# -- containers ---------------------------------------------------------------


@hosts
def test_every_container_answers_with_its_verified_host_key(containers):
    assert len(containers) >= 2
    for host in containers:
        with host.connect() as conn:
            assert conn.run("hostname").check().stdout.strip() == host.name
            addresses = conn.run("ip -4 -o addr show dev eth0").check().stdout
            assert f"{host.address}/30" in addresses


@hosts
def test_a_container_with_another_key_on_record_is_refused(containers, tmp_path):
    host = containers[0]
    impostor = keys.ed25519("impostor")
    known = tmp_path / "known_hosts"
    known.write_text(keys.known_hosts_line(host.address, host.port, impostor.public))
    with pytest.raises(HostKeyRejected):
        kit.connect(
            host.spec,
            known_hosts=known,
            identity_file=host.identity_file,
            host_key_policy="strict",
        )


@hosts
def test_containers_run_systemd_and_sshd(containers):
    for host in containers:
        with host.connect() as conn:
            state = conn.run("systemctl is-system-running").stdout.strip()
            assert state in ("running", "degraded"), conn.run("systemctl --failed").stdout
            assert conn.run("systemctl is-active ssh").stdout.strip() == "active"


@hosts
def test_a_container_installs_and_removes_hello_from_the_local_repository(containers):
    with containers[-1].connect() as conn:
        for tool in ("socat", "ethtool", "conntrack", "hello"):
            assert not conn.run("command -v %s", tool).ok, f"{tool} should not be in the image"
        conn.run("apt-get update -q").check()
        conn.run("DEBIAN_FRONTEND=noninteractive apt-get install -y -q hello").check()
        assert conn.run("hello").check().stdout.strip() == "Hello, world!"
        conn.run("DEBIAN_FRONTEND=noninteractive apt-get remove -y -q hello").check()
        assert not conn.run("command -v hello").ok


@hosts
def test_the_sudo_user_runs_commands_as_root_with_its_password(containers):
    host = containers[0]
    with host.connect(user=host.sudo_user) as conn:
        assert conn.run("id -un").check().stdout.strip() == host.sudo_user
        assert conn.run("id -u", sudo=True).check().stdout.strip() == "0"


# -- the VM -------------------------------------------------------------------


@hosts
def test_the_vm_has_a_real_kernel_with_loadable_modules(vm):
    with vm.connect() as conn:
        assert conn.run("systemctl is-system-running").stdout.strip() in ("running", "degraded")
        conn.run("modprobe br_netfilter").check()
        assert "br_netfilter" in conn.run("cat /proc/modules").check().stdout
        value = conn.run("sysctl -n net.bridge.bridge-nf-call-iptables").check().stdout
        assert value.strip() in ("0", "1")


@hosts
def test_the_vm_enables_a_swap_file(vm):
    with vm.connect() as conn:
        conn.run(
            "fallocate -l 32M /hk-swap && chmod 600 /hk-swap && mkswap /hk-swap && swapon /hk-swap"
        ).check()
        try:
            assert "/hk-swap" in conn.run("cat /proc/swaps").check().stdout
        finally:
            conn.run("swapoff /hk-swap; rm -f /hk-swap")
        assert "/hk-swap" not in conn.run("cat /proc/swaps").check().stdout


@hosts
def test_the_vm_has_a_spare_block_device(vm):
    with vm.connect() as conn:
        size = conn.run("lsblk -bdno SIZE /dev/vdb").check().stdout.strip()
        assert int(size) == 64 * 1024 * 1024
        assert "/dev/vdb" not in conn.run("cat /proc/mounts").check().stdout


@hosts
def test_the_vm_boots_through_grub_with_the_command_line_grub_cfg_gives(vm):
    with vm.connect() as conn:
        cmdline = conn.run("cat /proc/cmdline").check().stdout.split()
        cfg = conn.run("cat /boot/grub/grub.cfg").check().stdout
        root_uuid = conn.run("findmnt -no UUID /").check().stdout.strip()
        disk = conn.run("lsblk -no PKNAME,PARTTYPE $(findmnt -no SOURCE /)").check().stdout
    # GRUB's linux command names the image it loaded as BOOT_IMAGE; qemu -kernel has none.
    assert cmdline[0].startswith("BOOT_IMAGE=/boot/vmlinuz-"), cmdline
    # The VM is shared: an earlier scenario may have booted it with more arguments.
    assert set(grub_cfg_args(cfg) or ["(no linux line)"]) <= set(cmdline[1:]), (cmdline, cfg)
    assert f"root=UUID={root_uuid}" in cmdline
    assert {"console=ttyS0", "net.ifnames=0"} <= set(cmdline)
    assert disk.split() == ["vda", "0x83"], disk  # partition 1 of an MBR disk


# -- up and down --------------------------------------------------------------


def _processes() -> set[int]:
    return {int(p) for p in os.listdir("/proc") if p.isdigit()}


@hosts
def test_up_twice_is_harmless_and_down_leaves_nothing_behind(tmp_path_factory):
    fleet = boot(tmp_path_factory, "teardown", containers=1)
    again = kit.testhosts.up(containers=1, state_dir=fleet.state_dir)
    assert [h.pid for h in again.hosts] == [h.pid for h in fleet.hosts]
    (host,) = fleet.hosts
    net = netns.Net(host.net_index)
    root = Path(host.workdir) / "root"
    assert net.namespace in netns.namespaces()
    assert net.link in netns.links()
    assert host.pid in _processes()

    removed = kit.testhosts.down(fleet.state_dir)

    assert removed, "down reported nothing removed"
    assert net.namespace not in netns.namespaces()
    assert net.link not in netns.links()
    assert str(root) not in Path("/proc/mounts").read_text()
    assert not host.proc.alive()
    assert not Path(host.workdir).exists()
    assert not (fleet.state_dir / "fleet.json").exists()
    assert not fleet.identity_file.exists()
    assert kit.testhosts.down(fleet.state_dir) == []


# -- errors, without hosts ------------------------------------------------------


def test_a_missing_tool_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing, match="qemu-system-x86"):
        tools.require("qemu-system-x86_64")
    with pytest.raises(ToolMissing, match="systemd-container"):
        tools.require("systemd-nspawn")


def test_a_host_that_never_answers_times_out_with_its_console_tail(tmp_path):
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    console = tmp_path / "console.log"
    console.write_text("".join(f"boot line {i}\n" for i in range(50)) + "kernel panic here\n")
    sleeper = subprocess.Popen(["sleep", "30"])  # stands in for a host that hangs at boot
    try:
        host = _host(tmp_path, port, sleeper.pid)
        started = time.monotonic()
        with pytest.raises(BootTimeout) as caught:
            ready_mod.wait(host, timeout=1.5)
        assert time.monotonic() - started < 10
        assert "kernel panic here" in str(caught.value)
        assert "boot line 0\n" not in str(caught.value)
    finally:
        sleeper.kill()
        sleeper.wait()


def test_a_host_whose_process_dies_fails_at_once_with_its_console_tail(tmp_path):
    (tmp_path / "console.log").write_text("nspawn: failed to mount\n")
    done = subprocess.Popen(["true"])
    done.wait()
    host = _host(tmp_path, 1, done.pid)
    with pytest.raises(TestHostError, match="nspawn: failed to mount"):
        ready_mod.wait(host, timeout=30)


def _host(workdir: Path, port: int, pid: int) -> Host:
    from kit.testhosts import procs

    start = procs.start_time(pid)
    return Host(
        "hk-test", "container", "127.0.0.1", port,
        known_hosts=str(workdir / "kh"), identity_file=str(workdir / "id"),
        password_file=str(workdir / "pw"), workdir=str(workdir),
        pid=pid, pid_start=start if start is not None else -1,
    )  # fmt: skip


def test_the_image_key_follows_its_package_list(monkeypatch):
    before = image.recipe_key()
    monkeypatch.setattr(image, "PACKAGES", (*image.PACKAGES, "socat"))
    assert image.recipe_key() != before
    monkeypatch.undo()
    assert image.recipe_key() == before


def test_each_release_has_a_key_and_a_recipe_of_its_own(monkeypatch):
    keys_by_release = {n: image.recipe_key(n) for n in (11, 12, 13)}
    assert len(set(keys_by_release.values())) == 3, keys_by_release
    assert image.recipe_key() == keys_by_release[image.DEFAULT_RELEASE]
    # a change to one release's recipe moves that release's key only
    monkeypatch.setitem(
        image.RELEASES, 11, image.Release(11, "bullseye", image.DEBIAN_MIRROR, add=("hello",))
    )
    assert image.recipe_key(11) != keys_by_release[11]
    assert image.recipe_key(13) == keys_by_release[13]
    assert [image.RELEASES[n].suite for n in (11, 12, 13)] == ["bullseye", "bookworm", "trixie"]
    assert image.RELEASES[12].mirror is None  # this machine's own sources, as before


def test_an_unknown_release_is_refused_by_name(tmp_path):
    with pytest.raises(TestHostError, match="no Debian 10; releases: 11, 12, 13"):
        image.ensure(number=10)
    with pytest.raises(TestHostError, match="no Debian 14"):
        kit.testhosts.up(containers=1, state_dir=tmp_path / "s", release=14)
    assert not (tmp_path / "s").exists()


def test_containerd_io_depends_on_what_containerd_does_but_runc():
    from kit.testhosts import dockerpkg

    # Debian 12's containerd Depends, as its control file has it
    depends = "libc6 (>= 2.34), runc (>= 1.0.0~rc94)"
    assert dockerpkg._without(depends, ("runc",)) == "libc6 (>= 2.34)"
    assert dockerpkg._without("runc:any, libc6", ("runc",)) == "libc6"
    assert dockerpkg._without("", ("runc",)) == ""


def test_cloud_init_hosts_template_renders_as_cloud_init_writes_it():
    from tests.hosts import installers

    rendered = installers.render_cloud_hosts("node1")
    assert rendered.startswith("# Your system has configured 'manage_etc_hosts' as True.\n")
    assert "127.0.1.1 node1 node1\n127.0.0.1 localhost\n" in rendered
    assert "{" not in rendered and "template:" not in rendered


def test_known_hosts_lines_name_non_standard_ports_in_brackets():
    pair = keys.ed25519("x")
    assert keys.known_hosts_line("10.77.1.2", 22, pair.public).startswith("10.77.1.2 ssh-ed25519 ")
    assert keys.known_hosts_line("127.0.0.1", 2222, pair.public).startswith("[127.0.0.1]:2222 ")


def _commands_mentioning(text: str) -> list[int]:
    found = []
    for pid in _processes():
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline:
            found.append(pid)
    return found


@hosts
def test_a_vm_that_does_not_boot_in_time_fails_with_its_console_and_is_removed(
    tmp_path_factory,
):
    state = tmp_path_factory.mktemp("late-vm")
    with pytest.raises(BootTimeout) as caught:
        kit.testhosts.up(vm=True, state_dir=state, boot_timeout=4)
    message = str(caught.value)
    assert "hk-vm did not answer over ssh within 4s" in message
    assert "last console lines:" in message
    assert "(console log empty)" not in message  # the kernel had begun to talk
    assert _commands_mentioning(str(state)) == []
    assert not state.exists() or list(state.iterdir()) == []


def test_without_root_up_says_so_before_doing_anything(monkeypatch, tmp_path):
    # the tests run as root; an unprivileged caller is simulated
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(kit.testhosts.NotRoot, match="need root"):
        kit.testhosts.up(containers=1, state_dir=tmp_path / "state")
    assert not (tmp_path / "state").exists()
