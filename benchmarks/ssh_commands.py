"""Time N commands through hostkit's SSH connection and through testinfra's paramiko backend.

Both talk to the same sshd, which this script starts on a loopback port (the
ssh tier's fixture code), in one run, one after the other:

    python benchmarks/ssh_commands.py [--commands 200]

testinfra opens a new channel per command; hostkit sends each command through
a long-lived shell on one channel. Both log in as the ssh tier's test user,
whose login shell is /bin/sh, so no shell start-up file (a root .bashrc that
runs pyenv, say) adds to the cost of a channel. Needs root (it creates that
user, as the ssh tier does, and removes it at the end).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import testinfra

import kit
from tests.ssh import sshd


def time_kit(server: sshd.Sshd, n: int) -> tuple[float, float]:
    started = time.perf_counter()
    with kit.connect(
        server.spec(sshd.USER), identity_file=server.client_key, known_hosts=server.known_hosts
    ) as conn:
        connected = time.perf_counter() - started
        conn.run("true")  # the first command opens the shell; count it with the connect
        connected = time.perf_counter() - started
        started = time.perf_counter()
        for i in range(n):
            assert conn.run("echo %s", i).stdout == f"{i}\n"
        return connected, time.perf_counter() - started


def time_kit_channels(server: sshd.Sshd, n: int) -> float:
    """hostkit forced onto one exec channel per command (stdin given): sshd's setup cost."""
    with kit.connect(
        server.spec(sshd.USER), identity_file=server.client_key, known_hosts=server.known_hosts
    ) as conn:
        started = time.perf_counter()
        for i in range(n):
            assert conn.run("echo %s", i, stdin=b"").stdout == f"{i}\n"
        return time.perf_counter() - started


def time_testinfra(server: sshd.Sshd, n: int) -> tuple[float, float]:
    config = server.root / "ssh_config"
    config.write_text(
        f"Host bench\n  HostName {server.host}\n  Port {server.port}\n  User {sshd.USER}\n"
        f"  IdentityFile {server.client_key}\n  UserKnownHostsFile {server.known_hosts}\n"
    )
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # testinfra's WarningPolicy on the unknown key
        host = testinfra.get_host("paramiko://bench", ssh_config=str(config))
        host.run("true")
    connected = time.perf_counter() - started
    started = time.perf_counter()
    for i in range(n):
        assert host.run("echo %s", str(i)).stdout == f"{i}\n"
    return connected, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--no-pam", action="store_true", help="sshd without PAM (cheaper channel setup)"
    )
    args = parser.parse_args()
    n = args.commands
    kit_times: list[float] = []
    ti_times: list[float] = []
    with sshd.running(users=True, pam=not args.no_pam) as server:
        for _ in range(args.rounds):
            kit_connect, kit_total = time_kit(server, n)
            ti_connect, ti_total = time_testinfra(server, n)
            channels = time_kit_channels(server, n)
            kit_times.append(kit_total)
            ti_times.append(ti_total)
            print(
                f"hostkit   {n} commands: {kit_total:7.3f} s  ({kit_total / n * 1000:6.2f} ms each,"
                f" connect {kit_connect * 1000:.0f} ms)"
            )
            print(
                f"hostkit, a channel per command: {channels:7.3f} s"
                f"  ({channels / n * 1000:6.2f} ms each)"
            )
            print(
                f"testinfra {n} commands: {ti_total:7.3f} s  ({ti_total / n * 1000:6.2f} ms each,"
                f" connect {ti_connect * 1000:.0f} ms)"
            )
    kit_median = statistics.median(kit_times)
    ti_median = statistics.median(ti_times)
    print(
        f"median over {args.rounds} rounds: hostkit {kit_median:.3f} s, "
        f"testinfra {ti_median:.3f} s, ratio {ti_median / kit_median:.1f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
