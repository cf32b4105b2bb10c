"""systemd-nspawn containers booting systemd, each in a network namespace of its own.

A container that reboots makes systemd-nspawn exit with status 133; its launcher then
starts it again, as systemd-nspawn@.service does (RestartForceExitStatus=133), on the same
root, namespace and so address, and host key. A workdir holding STAY_DOWN is not started
again: how a test makes a host that does not come back from its reboot.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path

from kit.testhosts import procs
from kit.testhosts.netns import Net

STOP_TIMEOUT = 20.0
REBOOT_STATUS = 133
STAY_DOWN = "stay-down"

# SIGTERM is passed on to nspawn, which turns it into an orderly poweroff.
_LAUNCHER = f"""
stay_down=$1; shift
child=
trap '[ -n "$child" ] && kill -TERM "$child"; wait "$child"; exit 0' TERM INT
while :; do
    "$@" &
    child=$!
    wait "$child"
    status=$?
    echo "hostkit: systemd-nspawn exited with status $status"
    [ "$status" -eq {REBOOT_STATUS} ] && [ ! -e "$stay_down" ] || exit "$status"
    echo "hostkit: the container rebooted; starting it again"
done
"""


def argv(root: Path, net: Net, name: str) -> list[str]:
    return [
        "systemd-nspawn",
        "-q",
        "-D",
        str(root),
        # this machine has no systemd as PID 1 to register with or to run a scope
        "--register=no",
        "--keep-unit",
        f"--network-namespace-path={net.path}",
        # the namespace is the container's own: let it manage its interfaces and
        # firewall rules (ifupdown, nftables, iptables)
        "--capability=CAP_NET_ADMIN",
        f"--machine={name}",
        "--console=read-only",
        "-b",
    ]


def start(root: Path, net: Net, name: str, console: Path) -> procs.Proc:
    stay_down = root.parent / STAY_DOWN
    launcher = ["sh", "-c", _LAUNCHER, "hostkit-nspawn", str(stay_down), *argv(root, net, name)]
    return procs.spawn(launcher, console)


def stop(proc: procs.Proc) -> bool:
    stopped = procs.stop(proc, STOP_TIMEOUT)
    # Killed rather than stopped, the launcher would leave nspawn behind: its process
    # group (the launcher's own session) goes with it.
    if stopped:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    return stopped
