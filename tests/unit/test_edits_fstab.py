import pytest

from kit.edits import fstab
from kit.errors import KitValueError

FSTAB = (
    "# /etc/fstab: static file system information.\n"
    "UUID=0a1b / ext4 errors=remount-ro 0 1\n"
    "/dev/sda2\tnone\tswap\tsw\t0\t0\n"
    "UUID=77aa none swap sw 0 0\n"
    "  LABEL=SWAP   none  swap  defaults  0 0\n"
    "/swapfile none swap sw 0 0\n"
    "#/dev/sdb1 none swap sw 0 0\n"
    "tmpfs /tmp tmpfs defaults,size=1G 0 0\n"
    "/dev/sdc1 /srv/my\\040data ext4 defaults 0 2\n"
)


def test_parse_decodes_octal_escapes_and_skips_comments():
    entries = fstab.parse(FSTAB)
    assert [e.file for e in entries] == [
        "/",
        "none",
        "none",
        "none",
        "none",
        "/tmp",
        "/srv/my data",
    ]
    assert entries[0] == fstab.Entry("UUID=0a1b", "/", "ext4", "errors=remount-ro", 0, 1)
    assert entries[-1].passno == 2


def test_comment_swap_comments_every_kind_of_swap_line_and_nothing_else():
    out = fstab.comment_swap(FSTAB)
    before, after = FSTAB.splitlines(), out.splitlines()
    assert after[2] == "#/dev/sda2\tnone\tswap\tsw\t0\t0"
    assert after[3] == "#UUID=77aa none swap sw 0 0"
    assert after[4] == "#  LABEL=SWAP   none  swap  defaults  0 0"
    assert after[5] == "#/swapfile none swap sw 0 0"
    for i in (0, 1, 6, 7, 8):
        assert after[i] == before[i]
    assert fstab.swap_entries(out) == []
    assert fstab.comment_swap(out) == out


def test_set_entry_replaces_the_line_for_that_mountpoint():
    want = fstab.Entry("/dev/sdd1", "/tmp/", "xfs", "noatime", 0, 0)
    out = fstab.set_entry(FSTAB, want)
    assert "tmpfs /tmp" not in out
    assert out.splitlines()[7] == "/dev/sdd1 /tmp/ xfs noatime 0 0"
    assert fstab.entry_for(out, "/tmp") == want


def test_set_entry_appends_with_escapes_and_drops_duplicates():
    text = "a /x ext4 defaults 0 0\nb /x ext4 defaults 0 0"
    want = fstab.Entry("/dev/x", "/mnt/with space", "ext4")
    out = fstab.set_entry(text, want)
    assert out.endswith("\n/dev/x /mnt/with\\040space ext4 defaults 0 0\n")
    out2 = fstab.set_entry(out, fstab.Entry("c", "/x", "ext4"))
    assert out2.count(" /x ") == 1
    assert fstab.entry_for(out2, "/mnt/with space") == want


def test_set_entry_keeps_an_equal_line_as_written():
    text = "UUID=1  /data\text4   defaults  0   2\n"
    assert fstab.set_entry(text, fstab.Entry("UUID=1", "/data", "ext4", "defaults", 0, 2)) == text


@pytest.mark.parametrize("bad", ["", "#x", "a\0b"])
def test_format_entry_rejects_fields_that_would_break_the_file(bad):
    with pytest.raises(KitValueError):
        fstab.format_entry(fstab.Entry(bad, "/x", "ext4"))
