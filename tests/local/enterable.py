"""A disposable "container" that nsenter:// can enter: namespaces of its own over this
machine's root.

unshare makes new mount, UTS, IPC, network, PID and cgroup namespaces; in them the
leader gives itself a hostname, puts /etc and /run under a tmpfs of the namespace's own
(/etc as an overlay over this machine's), then stays as the namespace's pid 1, reaping
orphans as an init does. Writes to /etc or /run there never reach this machine; the
rest of the filesystem (/tmp, the tests' tmp_path) is this machine's, so a test can
look at what a command wrote there.
Everything goes away when unshare is killed (--kill-child).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.tiers import unavailable

HOSTNAME = "hk-enter"
_SETUP = """set -e
p=$1
hostname "$2"
mount -t tmpfs -o mode=0700 hk-private "$p"
mkdir "$p/etc.up" "$p/etc.wk" "$p/run"
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$p/etc.up,workdir=$p/etc.wk" /etc
mount -t tmpfs -o mode=0755 hk-run /run
touch /run/hk-ready
# As an init does, pid 1 reaps the orphans handed to it (dash's wait reaps any child).
while :; do sleep 1 & wait; done
"""


@dataclass(frozen=True)
class Enterable:
    leader: int  # the pid 1 of its namespaces, as this machine numbers it
    hostname: str

    @property
    def spec(self) -> str:
        return f"nsenter://{self.leader}"


def available() -> None:
    """Skip (fail in CI) where a container cannot be made: not root, no unshare/nsenter."""
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("nsenter")):
        unavailable("local", "a container to enter needs root, unshare and nsenter")


@contextlib.contextmanager
def container(workdir: Path, hostname: str = HOSTNAME) -> Iterator[Enterable]:
    available()
    private = workdir / "ns-private"
    private.mkdir()
    proc = subprocess.Popen(
        [
            "unshare",
            "--mount",
            "--uts",
            "--ipc",
            "--net",
            "--pid",
            "--cgroup",
            "--fork",
            "--mount-proc",
            "--kill-child",
            "sh",
            "-c",
            _SETUP,
            "sh",
            str(private),
            hostname,
        ],
        stdin=subprocess.DEVNULL,
    )
    leader = 0
    try:
        leader = _leader(proc)
        yield Enterable(leader, hostname)
    finally:
        # The leader first: unshare reaps it (and the namespace's every process dies with
        # it) before it exits, so nothing is left for this machine's init to reap.
        if leader:
            with contextlib.suppress(ProcessLookupError):
                os.kill(leader, signal.SIGKILL)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _leader(proc: subprocess.Popen[bytes]) -> int:
    """unshare's child, once it has set its namespace up."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the container's setup failed (unshare exited {proc.returncode})")
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(children.read_text().split()[0])
            if Path(f"/proc/{pid}/root/run/hk-ready").exists():
                return pid
        time.sleep(0.02)
    raise RuntimeError("the container did not come up within 20s")
