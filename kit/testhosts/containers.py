"""systemd-nspawn containers booting systemd, each in a network namespace of its own."""

from __future__ import annotations

from pathlib import Path

from kit.testhosts import procs
from kit.testhosts.netns import Net

STOP_TIMEOUT = 20.0


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
    return procs.spawn(argv(root, net, name), console)


def stop(proc: procs.Proc) -> bool:
    # nspawn turns SIGTERM into an orderly poweroff of the container's systemd
    return procs.stop(proc, STOP_TIMEOUT)
