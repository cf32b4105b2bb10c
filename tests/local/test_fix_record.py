"""The run journal and the host lock over the local connection, under temporary dirs."""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from kit.connection import connect
from kit.runner import files, journal
from kit.runner.hostlock import HostBusy, HostLock
from kit.runner.journal import Journal


@pytest.fixture
def conn():
    with connect("local://") as c:
        yield c


def start_time(pid: int) -> str:
    """The process's start time, as /proc/PID/stat gives it (field 22)."""
    with open(f"/proc/{pid}/stat") as fh:
        return fh.read().rpartition(") ")[2].split()[19]


def entries(path):
    return [json.loads(line) for line in (path / "journal").read_text().splitlines()]


def test_a_failed_fix_puts_back_changed_and_created_files_byte_for_byte(conn, tmp_path):
    kept = tmp_path / "kept.conf"
    kept.write_bytes(b"original \xe9 bytes\n")
    kept.chmod(0o640)
    created = tmp_path / "created.conf"
    record = Journal(conn, "20260101T000000Z-test", str(tmp_path / "runs"))
    record.open()
    with record.fix("t.check"):
        files.write_file(conn, str(kept), "replaced\n", mode="0600")
        files.write_file(conn, str(created), "new\n")
        assert kept.read_text() == "replaced\n" and created.exists()
        restored = record.rollback()
    assert restored == [str(created), str(kept)]
    assert kept.read_bytes() == b"original \xe9 bytes\n"
    assert oct(kept.stat().st_mode & 0o777) == "0o640"
    assert not created.exists()
    log = entries(tmp_path / "runs" / record.run_id)
    begun = [e for e in log if e.get("state") == "begin"]
    assert [e["path"] for e in begun] == [str(kept), str(created)]
    # null, not "": the record says the file did not exist, which alone lets undo remove it
    assert begun[0]["sha256_before"] and begun[1]["sha256_before"] is None
    assert {e["seq"] for e in log if e.get("state") == "restored"} == {1, 2}


def test_writes_outside_a_fix_are_not_recorded(conn, tmp_path):
    record = Journal(conn, "20260101T000000Z-idle", str(tmp_path / "runs"))
    record.open()
    files.write_file(conn, str(tmp_path / "f"), "x\n")
    with record.fix("t.check"):
        files.write_file(conn, str(tmp_path / "g"), "y\n", dry_run=True)
    assert [e.get("event") for e in entries(tmp_path / "runs" / record.run_id)] == ["start"]


def test_an_unfinished_run_is_reported_once_with_its_step_in_flight(conn, tmp_path):
    runs = tmp_path / "runs"
    first = Journal(conn, "20260101T000000Z-first", str(runs))
    first.open()
    with (
        first.fix("t.slow"),
        pytest.raises(RuntimeError),
        journal.live_step(conn, "wait for the network"),
    ):
        raise RuntimeError("controller killed here")
    # No close(): the run never ended.
    second = Journal(conn, "20260101T000001Z-second", str(runs))
    (earlier,) = second.open()
    assert earlier.run == first.run_id
    assert earlier.in_flight == ["wait for the network for t.slow"]
    second.close()
    third = Journal(conn, "20260101T000002Z-third", str(runs))
    assert third.open() == []


def test_old_runs_are_pruned(conn, tmp_path):
    runs = tmp_path / "runs"
    for i in range(5):
        record = Journal(conn, f"2026010{i}T000000Z-r", str(runs), keep=3)
        record.open()
        record.close()
    assert sorted(os.listdir(runs)) == [f"2026010{i}T000000Z-r" for i in (2, 3, 4)]


def test_a_second_run_waits_then_reports_the_host_busy(conn, tmp_path):
    first = HostLock(conn, "run-one", str(tmp_path))
    first.acquire(timeout=1)
    second = HostLock(conn, "run-two", str(tmp_path))
    started = time.monotonic()
    with pytest.raises(HostBusy, match="run-one"):
        second.acquire(timeout=1.0, poll=0.2)
    assert time.monotonic() - started >= 1.0
    first.release()
    second.acquire(timeout=1)
    assert second.held
    second.release()


def test_a_lock_whose_holder_is_gone_is_taken_over(conn, tmp_path):
    gone = subprocess.Popen(["true"])
    gone.wait()
    (tmp_path / "fix.owner").write_text(f"run-dead {gone.pid} 1\n")
    lock = HostLock(conn, "run-new", str(tmp_path))
    lock.acquire(timeout=0)
    assert (tmp_path / "fix.owner").read_text().split()[0] == "run-new"


def test_a_lock_held_by_a_live_process_is_respected(conn, tmp_path):
    with subprocess.Popen(["sleep", "30"]) as alive:
        try:
            start = start_time(alive.pid)
            (tmp_path / "fix.owner").write_text(f"run-alive {alive.pid} {start}\n")
            with pytest.raises(HostBusy):
                HostLock(conn, "run-new", str(tmp_path)).acquire(timeout=0)
        finally:
            alive.kill()


def test_two_names_of_one_host_in_one_run_keep_their_saved_copies_apart(conn, tmp_path):
    """Aliases share the run's directory on the host: no step of one may take the other's
    step number, or a rollback would put back the other file's copy."""
    a, b = tmp_path / "a.conf", tmp_path / "b.conf"
    a.write_text("a before\n")
    b.write_text("b before\n")
    first = Journal(conn, "20260101T000000Z-alias", str(tmp_path / "runs"))
    second = Journal(conn, "20260101T000000Z-alias", str(tmp_path / "runs"))
    first.open()
    second.open()
    with first.fix("t.a"):
        files.write_file(conn, str(a), "a after\n")
        with second.fix("t.b"):
            files.write_file(conn, str(b), "b after\n")
            second.rollback()
        first.rollback()
    assert (a.read_text(), b.read_text()) == ("a before\n", "b before\n")
