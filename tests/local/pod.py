"""The image run as a privileged pod with `hostPID: true` runs it, without a container runtime.

What such a pod has, and what this gives the image's root here: this machine's PID
namespace (so its pids, and nsenter://PID, mean what they mean outside); /proc mounted
for that namespace; the host's devices (privileged); a read-only root filesystem
(readOnlyRootFilesystem) with an emptyDir at /tmp; the manifest's environment only, and
its working directory. A mount namespace of its own keeps all of it from this machine.
What it leaves out, and no test here needs: cgroup limits, a network namespace of the
pod's own (hostkit makes no connection; nsenter:// enters the node's network namespace).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from deploy import archive

_POD = r"""set -e
r=$1
wd=$2
shift 2
mount --bind "$r" "$r"
mount -o remount,bind,ro "$r"
mount -t proc proc "$r/proc"
mount --rbind /dev "$r/dev"
mount -t tmpfs -o mode=1777,size=64m pod-tmp "$r/tmp"
exec chroot "$r" /bin/sh -c 'cd "$1" && shift && exec "$@"' pod "$wd" "$@"
"""


def start(
    root: Path,
    argv: Sequence[str],
    env: Mapping[str, str],
    workdir: str = "/",
    stderr: int | IO[bytes] = subprocess.PIPE,
) -> subprocess.Popen[bytes]:
    """Start `argv` in the image at `root` as the pod would, in a session of its own (so
    the caller can end the pod's whole process group); standard output piped, standard
    error to `stderr`."""
    for part in (root, workdir):
        if "\n" in str(part):
            raise ValueError(f"a newline in {part!r}")
    pod_env = {"PATH": archive.PATH, **env}
    return subprocess.Popen(
        [
            "unshare", "--mount", "--propagation", "private",
            "env", "-i", *(f"{k}={v}" for k, v in pod_env.items()),
            "/bin/sh", "-c", _POD, "pod", str(root), workdir, *argv,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
        start_new_session=True,
    )  # fmt: skip


def run(
    root: Path,
    argv: Sequence[str],
    env: Mapping[str, str],
    workdir: str = "/",
    timeout: float = 300,
) -> subprocess.CompletedProcess[bytes]:
    """Run `argv` to its end in the image at `root` as the pod would; its stdout is the
    pod's log, both streams as `kubectl logs` shows them."""
    proc = start(root, argv, env, workdir, stderr=subprocess.STDOUT)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        stop(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End the pod: every process of its session, which start() made for it alone."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
