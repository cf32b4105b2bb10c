"""A qemu VM under software emulation (TCG): real kernel, modules, swap, reboot.

KVM hangs on these machines right after the kernel's setup code, so TCG it is;
a boot takes about 50 s. Both disks run with snapshot=on: the guest's writes
vanish when qemu exits.

The VM boots as a real host does, through GRUB from its disk (SeaBIOS, an MBR
partition table, one ext4 partition), so a kernel command line changed through
/etc/default/grub and update-grub is what the next boot gets. The image's own GRUB
(grub-pc) builds core.img and writes the boot sectors; its grub.cfg is written here
as update-grub writes it, so update-grub in the guest regenerates the same thing.
"""

from __future__ import annotations

import re
import shutil
import socket
import struct
import uuid
from pathlib import Path

from kit.testhosts import image, procs, tools
from kit.testhosts.errors import NoFreePort, StepFailed

DISK_BYTES = 2 << 30  # about 400 MB used: room for a swap file and test files
PART_OFFSET = 1 << 20  # where partitioning tools start partition 1; GRUB embeds before it
CORE_MODULES = ("biosdisk", "part_msdos", "ext2")
# The kernel command line as /etc/default/grub in the image sets it.
CMDLINE = image.GRUB_SETTINGS["GRUB_CMDLINE_LINUX"].strip('"')
CMDLINE_DEFAULT = image.GRUB_SETTINGS["GRUB_CMDLINE_LINUX_DEFAULT"].strip('"')
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
    """The boot disk (GRUB in its first MiB, the root filesystem in partition 1, made from
    root) and an empty data disk."""
    disk, data = host_dir / "disk.img", host_dir / "data.img"
    fs_uuid = str(uuid.uuid4())
    _install_grub_files(root, fs_uuid)
    size = DISK_BYTES - PART_OFFSET
    with disk.open("wb") as out:
        out.write(mbr(DISK_BYTES))
    tools.run(
        [
            "mkfs.ext4", "-q", "-F", "-L", "hostkit-root", "-U", fs_uuid,
            "-E", f"offset={PART_OFFSET}", "-d", root, disk, f"{size // 1024}k",
        ],
        "mkfs.ext4 -d (the VM's root partition)",
    )  # fmt: skip
    _write_boot_sectors(root, disk)
    with data.open("wb") as out:
        out.truncate(DATA_DISK_MB * 1024 * 1024)
    return disk, data


def mbr(disk_bytes: int) -> bytes:
    """A DOS partition table: one bootable Linux partition from PART_OFFSET to the end.
    The boot code area stays empty; grub-bios-setup fills it."""
    first, sectors = PART_OFFSET // 512, disk_bytes // 512 - PART_OFFSET // 512
    # CHS fields say "beyond CHS" (0xfe 0xff 0xff): every BIOS since the 90s reads LBA.
    entry = struct.pack("<B3sB3sII", 0x80, b"\xfe\xff\xff", 0x83, b"\xfe\xff\xff", first, sectors)
    signature = struct.pack("<I", 0x686B6B74)
    return bytes(440) + signature + bytes(2) + entry + bytes(48) + b"\x55\xaa"


def grub_cfg(root: Path, fs_uuid: str) -> str:
    """grub.cfg's default entry as Debian's update-grub writes it for this root: the
    command line is root=UUID ro, then GRUB_CMDLINE_LINUX, then _DEFAULT."""
    kernel = _newest(root / "boot", "vmlinuz-")
    initrd = _newest(root / "boot", "initrd.img-")
    cmdline = " ".join(
        [f"root=UUID={fs_uuid}", "ro", *(a for a in (CMDLINE, CMDLINE_DEFAULT) if a)]
    )
    return (
        "# Written when the test VM's disk was made, as update-grub writes it.\n"
        "serial --unit=0 --speed=115200\n"
        "terminal_input serial\n"
        "terminal_output serial\n"
        "set default=0\n"
        "set timeout=0\n"
        "insmod part_msdos\n"
        "insmod ext2\n"
        f"search --no-floppy --fs-uuid --set=root {fs_uuid}\n"
        "menuentry 'Debian GNU/Linux' --class debian --class gnu-linux --class gnu --class os {\n"
        "\tinsmod gzio\n"
        "\tinsmod part_msdos\n"
        "\tinsmod ext2\n"
        f"\tsearch --no-floppy --fs-uuid --set=root {fs_uuid}\n"
        f"\tlinux\t/boot/{kernel} {cmdline}\n"
        f"\tinitrd\t/boot/{initrd}\n"
        "}\n"
    )


def _newest(directory: Path, prefix: str) -> str:
    # version order, as update-grub's version_find_latest: 6.1.0-10 after 6.1.0-9
    found = sorted(
        (p.name for p in directory.glob(prefix + "*")),
        key=lambda name: [
            (int(x), "") if x.isdigit() else (-1, x) for x in re.split(r"(\d+)", name)
        ],
    )
    if not found:
        raise StepFailed(f"finding {prefix}* in {directory}", 1, "")
    return found[-1]


def _install_grub_files(root: Path, fs_uuid: str) -> None:
    """What grub-install puts under /boot/grub: the modules, core.img, and grub.cfg."""
    modules = root / "boot/grub/i386-pc"
    modules.mkdir(parents=True, exist_ok=True)
    for item in (root / "usr/lib/grub/i386-pc").iterdir():
        if item.suffix in (".mod", ".lst", ".img"):
            shutil.copy2(item, modules / item.name)
    # The root partition is the first disk's first partition (hd0,msdos1): the boot
    # disk is the first drive SeaBIOS lists.
    tools.run(
        [
            "chroot", root, "grub-mkimage", "-O", "i386-pc", "-d", "/usr/lib/grub/i386-pc",
            "-o", "/boot/grub/i386-pc/core.img", "-p", "(hd0,msdos1)/boot/grub",
            *CORE_MODULES,
        ],
        "grub-mkimage (the VM's core.img)",
    )  # fmt: skip
    (root / "boot/grub/grub.cfg").write_text(grub_cfg(root, fs_uuid))


# Run in a private mount namespace, so every mount (and with it the loop device) goes
# when it exits, whatever happens. grub-bios-setup finds the files it embeds (boot.img,
# core.img) on a disk it can read, so the root partition is mounted, and the disk image
# itself is reached through a bind mount. $1: the disk image, $2: its directory,
# $3: an empty directory to mount on, $4: the partition's offset in bytes.
_BOOT_SECTORS = r"""set -e
mount -o loop,ro,offset="$4" "$1" "$3"
mount -t tmpfs tmpfs "$3/mnt"
mkdir "$3/mnt/disk"
mount --bind "$2" "$3/mnt/disk"
mount -t proc proc "$3/proc"
mount --bind /dev "$3/dev"
mount --bind /sys "$3/sys"
exec chroot "$3" grub-bios-setup -d /boot/grub/i386-pc "/mnt/disk/$(basename "$1")"
"""


def _write_boot_sectors(root: Path, disk: Path) -> None:
    del root  # the image's grub tools run from the disk's own root, mounted read-only
    mountpoint = disk.parent / "boot-setup"
    mountpoint.mkdir(exist_ok=True)
    try:
        tools.run(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c", _BOOT_SECTORS,
             "sh", disk, disk.parent, mountpoint, str(PART_OFFSET)],
            "grub-bios-setup (the VM's boot sectors)",
        )  # fmt: skip
    finally:
        mountpoint.rmdir()


def argv(disk: Path, data: Path, port: int, console: Path) -> list[str]:
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
        "-drive",
        f"file={disk},format=raw,if=virtio,snapshot=on",
        "-drive",
        f"file={data},format=raw,if=virtio,snapshot=on",
        "-netdev",
        f"user,id=n0,hostfwd=tcp:127.0.0.1:{port}-:22",
        "-device",
        "virtio-net-pci,netdev=n0",
    ]


def start(disk: Path, data: Path, port: int, console: Path, log: Path) -> procs.Proc:
    return procs.spawn(argv(disk, data, port, console), log)


def stop(proc: procs.Proc) -> bool:
    return procs.stop(proc, STOP_TIMEOUT)
