"""The fix lock names the process whose life bounds the connection: sshd's session process,
found by the command that takes the lock, under sudo with a password as without one."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.runner import lifeline
from kit.runner.hostlock import HostLock
from tests.ssh import sshd


@pytest.mark.parametrize("user", [sshd.USER, sshd.NOPASSWD_USER], ids=["password", "nopasswd"])
def test_the_lock_names_the_sessions_sshd_as_the_lifeline_reads_it(connect, tmp_path, user):
    directory = tmp_path / f"lock-{user}"
    conn = connect(user)
    lock = HostLock(conn, "run-one", str(directory))
    lock.acquire(timeout=0)
    try:
        run, pid, start = (directory / "fix.owner").read_text().split()
        holder = lifeline.read(conn).holder()
        assert holder is not None and holder.name.startswith("sshd")
        assert (run, int(pid), start) == ("run-one", holder.pid, holder.start)
        stat = Path(f"/proc/{pid}/stat").read_text()
        assert stat.rpartition(") ")[2].split()[19] == start
    finally:
        lock.release()
    assert not (directory / "fix.owner").exists()
