"""Bring a fleet of test hosts up and take it down again, leaving nothing behind."""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kit.testhosts import containers, image, keys, netns, overlay, personalize, ready, tools, vm
from kit.testhosts.state import (
    IDENTITY,
    KNOWN_HOSTS,
    PASSWORD,
    STATE_FILE,
    Fleet,
    Host,
    default_dir,
    load,
)

CONTAINER_BOOT_TIMEOUT = 90.0
VM_BOOT_TIMEOUT = 300.0
_BUILD_LOG = "image-build.log"


def up(
    *,
    containers: int = 0,
    vm: bool = False,
    state_dir: Path | str | None = None,
    boot_timeout: float | None = None,
    release: int | None = None,
) -> Fleet:
    """Boot `containers` containers and, if asked, the VM, all of Debian `release` (the
    image's default release when None); return them once they answer.

    A fleet already running in the state directory with the same shape and image is
    returned as it is; any other recorded fleet is taken down first.
    """
    rel = image.release(release)
    if containers < 0:
        raise tools.StepFailed("up", 2, "containers must be zero or more")
    tools.require_root()
    needed = ["ip", "mount", "chpasswd", "openssl"]
    needed += ["systemd-nspawn"] if containers else []
    needed += ["qemu-system-x86_64", "mkfs.ext4", "unshare", "chroot"] if vm else []
    tools.require(*needed)
    directory = Path(state_dir) if state_dir else default_dir()
    existing = load(directory)
    if existing is not None:
        same_image = existing.image == image.recipe_key(rel.number)
        if existing.alive() and existing.shape() == (containers, vm) and same_image:
            return existing
        down(directory)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    img = image.ensure(log=directory / _BUILD_LOG, number=rel.number)
    fleet = Fleet(directory, image=img.key)
    try:
        _start(fleet, img, containers, vm)
        timeouts = {
            h.name: boot_timeout or (VM_BOOT_TIMEOUT if h.kind == "vm" else CONTAINER_BOOT_TIMEOUT)
            for h in fleet.hosts
        }
        with ThreadPoolExecutor(max_workers=max(1, len(fleet.hosts))) as pool:
            states = pool.map(lambda h: ready.wait(h, timeouts[h.name]), fleet.hosts)
            for host, state in zip(fleet.hosts, list(states), strict=True):
                host.system_state = state
        fleet.save()
    except BaseException:
        down(directory)
        raise
    return fleet


def _start(fleet: Fleet, img: image.Image, count: int, want_vm: bool) -> None:
    directory = fleet.state_dir
    client = keys.ed25519("hostkit")
    keys.write_private(fleet.identity_file, client.private)
    keys.write_private(directory / f"{IDENTITY}.pub", client.public + "\n", 0o644)
    password = keys.password()
    keys.write_private(fleet.password_file, password + "\n")
    common = {
        "known_hosts": str(fleet.known_hosts),
        "identity_file": str(fleet.identity_file),
        "password_file": str(fleet.password_file),
    }
    identities: dict[str, personalize.Identity] = {}

    def plan(name: str, kind: str, address: str, port: int, net: int | None) -> Host:
        host_key = keys.ed25519(name)
        identities[name] = personalize.Identity(
            name, kind, host_key.private, host_key.public, client.public
        )
        workdir = directory / "hosts" / name
        workdir.mkdir(parents=True, exist_ok=True)
        return Host(name, kind, address, port, workdir=str(workdir), net_index=net, **common)

    with _netns_lock():
        nets = netns.free(count)
        if want_vm:
            fleet.hosts.append(plan("hk-vm", "vm", "127.0.0.1", vm.free_port(), None))
        for ordinal, net in enumerate(nets, start=1):
            host = plan(f"hk-c{ordinal}", "container", net.guest_address, 22, net.index)
            fleet.hosts.append(host)
        # every key is known before anything boots: connections verify from the start
        lines = [
            keys.known_hosts_line(h.address, h.port, identities[h.name].host_public)
            for h in fleet.hosts
        ]
        keys.write_private(fleet.known_hosts, "".join(lines), 0o644)
        fleet.save()  # from here on, `down` knows what to remove
        for host in fleet.containers:
            assert host.net_index is not None
            netns.create(netns.Net(host.net_index))
    # the VM boots longest: start it first, then the containers meanwhile
    if fleet.vm:
        _start_vm(fleet.vm, img, identities[fleet.vm.name], password)
        fleet.save()
    for host in fleet.containers:
        _start_container(host, img, identities[host.name], password)
        fleet.save()


def _start_vm(host: Host, img: image.Image, who: personalize.Identity, password: str) -> None:
    workdir = Path(host.workdir)
    root = overlay.mount(img.root, workdir)
    try:
        personalize.apply(root, who, password)
        disk, data = vm.make_disks(root, workdir)
    finally:
        overlay.umount(root)
        for part in ("root", "upper", "work"):
            shutil.rmtree(workdir / part, ignore_errors=True)
    proc = vm.start(disk, data, host.port, host.console, workdir / "qemu.log")
    host.pid, host.pid_start = proc.pid, proc.start


def _start_container(
    host: Host, img: image.Image, who: personalize.Identity, password: str
) -> None:
    assert host.net_index is not None
    root = overlay.mount(img.root, Path(host.workdir))
    personalize.apply(root, who, password)
    proc = containers.start(root, netns.Net(host.net_index), host.name, host.console)
    host.pid, host.pid_start = proc.pid, proc.start


def down(state_dir: Path | str | None = None) -> list[str]:
    """Stop and remove everything a fleet made; return what was removed. Safe to repeat."""
    directory = Path(state_dir) if state_dir else default_dir()
    fleet = load(directory)
    if fleet is None:
        return []
    tools.require_root()
    with ThreadPoolExecutor(max_workers=max(1, len(fleet.hosts))) as pool:
        removed = [item for items in pool.map(_remove_host, fleet.hosts) for item in items]
    for name in (KNOWN_HOSTS, IDENTITY, f"{IDENTITY}.pub", PASSWORD, _BUILD_LOG, STATE_FILE):
        path = directory / name
        if path.exists():
            path.unlink()
    for path in (directory / "hosts", directory):
        with contextlib.suppress(OSError):
            path.rmdir()
    return removed


def _remove_host(host: Host) -> list[str]:
    removed = []
    stop = vm.stop if host.kind == "vm" else containers.stop
    if host.pid and stop(host.proc):
        removed.append(f"{host.name}: process {host.pid}")
    workdir = Path(host.workdir)
    if overlay.umount(workdir / "root"):
        removed.append(f"{host.name}: overlay {workdir / 'root'}")
    if host.net_index is not None:
        removed += [f"{host.name}: {item}" for item in netns.delete(netns.Net(host.net_index))]
    if workdir.exists():
        shutil.rmtree(workdir)
        removed.append(f"{host.name}: {workdir}")
    return removed


class _netns_lock:
    """Serialise choosing and creating namespaces across fleets started at once."""

    def __enter__(self) -> None:
        path = image.cache_dir()
        path.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(path / "netns.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self._fd)
