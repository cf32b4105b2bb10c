"""A qemu VM under software emulation (TCG): real kernel, modules, swap, reboot.

KVM hangs on these machines right after the kernel's setup code, so TCG it is;
a boot takes about 50 s. Both disks run with snapshot=on: the guest's writes
vanish when qemu exits.
"""

from __future__ import annotations

import socket
from pathlib import Path

from kit.testhosts import procs, tools
from kit.testhosts.errors import NoFreePort

DISK_SIZE = "2G"  # about 400 MB used: room for a swap file and test files
DATA_DISK_MB = 64  # /dev/vdb, a real block device for mkfs and mount tests
MEMORY_MB = 1024
STOP_TIMEOUT = 10.0


def free_port() -> int:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    except OSError as exc:
        raise NoFreePort(str(exc)) from exc


def make_disks(root: Path, host_dir: Path) -> tuple[Path, Path]:
    disk, data = host_dir / "disk.img", host_dir / "data.img"
    tools.run(
        ["mkfs.ext4", "-q", "-F", "-L", "hostkit-root", "-d", root, disk, DISK_SIZE],
        "mkfs.ext4 -d (the VM's root disk)",
    )
    with data.open("wb") as out:
        out.truncate(DATA_DISK_MB * 1024 * 1024)
    return disk, data


def argv(kernel: Path, initrd: Path, disk: Path, data: Path, port: int, console: Path) -> list[str]:
    return [
        "qemu-system-x86_64",
        "-accel",
        "tcg",
        "-cpu",
        "max",
        "-m",
        str(MEMORY_MB),
        "-smp",
        "2",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        f"file:{console}",
        "-kernel",
        str(kernel),
        "-initrd",
        str(initrd),
        "-append",
        "root=/dev/vda rw console=ttyS0 net.ifnames=0",
        "-drive",
        f"file={disk},format=raw,if=virtio,snapshot=on",
        "-drive",
        f"file={data},format=raw,if=virtio,snapshot=on",
        "-netdev",
        f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22",
        "-device",
        "virtio-net-pci,netdev=n0",
    ]


def start(
    kernel: Path, initrd: Path, disk: Path, data: Path, port: int, console: Path, log: Path
) -> procs.Proc:
    return procs.spawn(argv(kernel, initrd, disk, data, port, console), log)


def stop(proc: procs.Proc) -> bool:
    return procs.stop(proc, STOP_TIMEOUT)
