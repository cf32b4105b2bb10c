"""The test VM's boot disk layout, as the BIOS and GRUB read it."""

from __future__ import annotations

import struct

from kit.testhosts import vm


def test_the_partition_table_has_one_bootable_linux_partition_after_grubs_gap():
    table = vm.mbr(2 << 30)
    assert len(table) == 512 and table[510:] == b"\x55\xaa"
    # What the BIOS boot code and grub-bios-setup keep: 440 bytes of code are theirs.
    assert table[:440] == bytes(440)
    status, ptype, first, count = struct.unpack_from("<B3xB3xII", table, 446)
    assert (status, ptype) == (0x80, 0x83)
    assert first * 512 == vm.PART_OFFSET == 1 << 20  # GRUB embeds core.img below it
    assert (first + count) * 512 == 2 << 30
    assert table[462:510] == bytes(48)  # the other three entries are empty


def test_grub_cfg_has_the_command_line_update_grub_writes(tmp_path):
    boot = tmp_path / "boot"
    boot.mkdir()
    for name in ("vmlinuz-6.1.0-9-cloud-amd64", "vmlinuz-6.1.0-10-cloud-amd64"):
        (boot / name).write_text("")
        (boot / name.replace("vmlinuz", "initrd.img")).write_text("")
    cfg = vm.grub_cfg(tmp_path, "c0b36de5-79a3-4cbd-8fff-de70b4a2a2c0")
    assert "set timeout=0\n" in cfg
    linux = [line.split() for line in cfg.splitlines() if line.strip().startswith("linux")]
    # The newest kernel in version order, as Debian's 10_linux puts it first.
    assert linux == [
        [
            "linux",
            "/boot/vmlinuz-6.1.0-10-cloud-amd64",
            "root=UUID=c0b36de5-79a3-4cbd-8fff-de70b4a2a2c0",
            "ro",
            "console=ttyS0",
            "net.ifnames=0",
        ]
    ]
