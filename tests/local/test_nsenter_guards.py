"""The safety guards over nsenter://, in a disposable container (tests/local/enterable.py):
the kubelet and container runtime that keep a pod running are not stopped, no reboot, and
the fix lock is held by a process inside the host that ends with the controller."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import kit
from kit.connection import Connection
from kit.errors import ProtectedError
from kit.runner import protect, system
from kit.runner.hostlock import HostBusy, HostLock
from tests.local import enterable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def made(tmp_path: Path) -> Iterator[enterable.Enterable]:
    with enterable.container(tmp_path) as c:
        yield c


@pytest.fixture
def conn(made: enterable.Enterable) -> Iterator[Connection]:
    with kit.connect(made.spec) as c:
        yield c


@pytest.mark.parametrize(
    ("unit", "why"),
    [("containerd", "container runtime"), ("kubelet", "the kubelet"), ("crio", "runtime")],
)
def test_the_runtime_and_kubelet_are_not_restarted(conn: Connection, unit: str, why: str) -> None:
    # The guard every runner service operation calls first (kit.runner.services); the
    # container has no systemd for the operation itself to reach.
    with pytest.raises(ProtectedError, match=f"restart {unit}.service.*{why}.*pod running hostkit"):
        protect.units(conn, [unit], "restart")


def test_no_reboot_even_when_the_caller_accepts_the_disconnect(conn: Connection) -> None:
    with pytest.raises(ProtectedError, match="reboot"):
        system.reboot(conn, accept_disconnect=True)


# Takes the lock over nsenter://, says so, and waits to be killed.
HOLDER = """
import sys, time, kit
from kit.runner.hostlock import HostLock
conn = kit.connect(sys.argv[1])
HostLock(conn, "run-killed", sys.argv[2]).acquire(timeout=10)
print("held", flush=True)
time.sleep(300)
"""


def test_the_fix_lock_of_a_killed_controller_is_taken_over(
    conn: Connection, made: enterable.Enterable, tmp_path: Path
) -> None:
    lockdir = "/run/hk-lock"  # the container's own /run
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, made.spec, lockdir],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(HostBusy, match="run-killed"):
            HostLock(conn, "run-next", lockdir).acquire(timeout=1, poll=0.2)
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    lock = HostLock(conn, "run-next", lockdir)
    lock.acquire(timeout=10, poll=0.2)
    assert lock.held
    assert conn.get(f"{lockdir}/fix.owner").startswith(b"run-next ")
    assert not Path(lockdir).exists()  # the lock lives in the container's /run
    lock.release()
