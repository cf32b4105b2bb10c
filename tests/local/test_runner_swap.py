"""Swap operations with fstab and /proc/swaps pointed into a temp dir.

This machine's swap is never touched: a /proc/swaps stand-in that lists a
device is only used with dry_run.
"""

import pytest

from kit.facts.model import Facts, InitSystem
from kit.runner import swap
from tests.local.recording import RecordingConnection

HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
FSTAB = (
    "# <file system> <mount point> <type> <options> <dump> <pass>\n"
    "UUID=aa / ext4 errors=remount-ro 0 1\n"
    "UUID=bb\tnone\tswap\tsw\t0\t0\n"
    "/swap\\040file none swap sw 0 0\n"
    "tmpfs  /tmp  tmpfs  defaults  0  0"
)


@pytest.fixture
def conn():
    return RecordingConnection()


@pytest.fixture
def paths(tmp_path):
    (tmp_path / "fstab").write_text(FSTAB)
    (tmp_path / "swaps").write_text(HEADER)
    return {
        "fstab": str(tmp_path / "fstab"),
        "proc_swaps": str(tmp_path / "swaps"),
        "systemd_runtime": str(tmp_path / "no-systemd"),
    }


def test_parse_proc_swaps_decodes_names():
    text = HEADER + "/swap\\040file  file  1048572  0  -2\n/dev/sda2 partition 8388604 0 -3\n"
    assert swap.parse_proc_swaps(text) == ["/swap file", "/dev/sda2"]
    assert swap.parse_proc_swaps(HEADER) == []


def test_is_swap_enabled_agrees_with_proc_swaps(conn):
    with open("/proc/swaps") as f:
        expected = len(f.read().splitlines()) > 1
    assert swap.is_swap_enabled(conn) is expected


def test_disable_swap_comments_swap_lines_once(conn, paths):
    change = swap.disable_swap(conn, None, **paths)
    assert change.changed and "swapoff" not in " ".join(conn.commands)
    with open(paths["fstab"]) as f:
        assert f.read() == FSTAB.replace("UUID=bb", "#UUID=bb").replace("/swap\\", "#/swap\\")
    conn.reset()
    again = swap.disable_swap(conn, None, **paths)
    assert not again.changed and not conn.writes()


def test_disable_swap_dry_run_with_active_swap_runs_no_swapoff(conn, paths):
    with open(paths["proc_swaps"], "a") as f:
        f.write("/dev/sda2 partition 8388604 0 -3\n")
    plan = swap.disable_swap(conn, None, dry_run=True, **paths)
    assert plan.changed and "swapoff (/dev/sda2)" in plan.summary and "#UUID=bb" in plan.diff
    assert not conn.writes()
    with open(paths["fstab"]) as f:
        assert f.read() == FSTAB


def test_systemd_from_facts_plans_masking_swap_target(conn, paths):
    facts = Facts(init_system=InitSystem(type="systemd"))
    plan = swap.disable_swap(conn, facts, dry_run=True, **paths)
    assert "swap.target masked" in plan.summary
    assert any("systemctl is-enabled swap.target" in c for c in conn.commands)
    assert not conn.writes()
    conn.reset()
    swap.disable_swap(conn, Facts(init_system=InitSystem(type="sysvinit")), dry_run=True, **paths)
    assert not any("systemctl" in c for c in conn.commands)


def test_no_proc_swaps_means_no_swap(conn, tmp_path):
    assert not swap.is_swap_enabled(conn, proc_swaps=str(tmp_path / "absent"))
