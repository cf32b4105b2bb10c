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
import os
import shlex
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import testinfra

import kit
from tests.ssh import sshd

# A command that runs no program: its pid is the one process the host started for it.
PROBE = "echo $$"


@dataclass
class Timed:
    connect: float  # seconds to connect and run the first command
    total: float  # seconds for the n commands
    processes: float | None  # host processes per command, with --count-processes


def _timed(
    run: Callable[[str], str], command: str, n: int, count: bool
) -> tuple[float, float | None]:
    """Run command n times through run; the seconds, and host processes per command."""
    first = run(PROBE) if count else ""
    expected = run(command)
    started = time.perf_counter()
    for _ in range(n):
        assert run(command) == expected
    total = time.perf_counter() - started
    if not count:
        return total, None
    # The second probe's own process is among those between the two pids.
    return total, (int(run(PROBE)) - int(first) - 1) / (n + 1)


def time_kit(server: sshd.Sshd, command: str, n: int, count: bool) -> Timed:
    started = time.perf_counter()
    with kit.connect(
        server.spec(sshd.USER), identity_file=server.client_key, known_hosts=server.known_hosts
    ) as conn:
        conn.run("true")  # the first command opens the shell; count it with the connect
        connected = time.perf_counter() - started
        total, processes = _timed(lambda c: conn.run(c).stdout, command, n, count)
        return Timed(connected, total, processes)


def time_kit_channels(server: sshd.Sshd, command: str, n: int) -> float:
    """hostkit forced onto one exec channel per command (stdin given): sshd's setup cost."""
    with kit.connect(
        server.spec(sshd.USER), identity_file=server.client_key, known_hosts=server.known_hosts
    ) as conn:
        total, _ = _timed(lambda c: conn.run(c, stdin=b"").stdout, command, n, False)
        return total


def time_testinfra(server: sshd.Sshd, command: str, n: int, count: bool) -> Timed:
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
        total, processes = _timed(lambda c: host.run(c).stdout, command, n, count)
    return Timed(connected, total, processes)


def _processes(timed: Timed) -> str:
    return "" if timed.processes is None else f", {timed.processes:.2f} host processes each"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=200)
    parser.add_argument("--command", default="cat /proc/swaps", help="the command timed")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--no-pam", action="store_true", help="sshd without PAM (cheaper channel setup)"
    )
    parser.add_argument(
        "--count-processes",
        action="store_true",
        help="run sshd in a pid namespace of its own and report host processes per command",
    )
    parser.add_argument("--out", type=Path, help="also write the medians as a markdown table")
    args = parser.parse_args()
    n, command, count = args.commands, args.command, args.count_processes
    kit_times: list[float] = []
    ti_times: list[float] = []
    channel_times: list[float] = []
    processes: dict[str, float | None] = {}
    load = os.getloadavg()[0]
    print(f"{n} x {command!r}")
    with sshd.running(users=True, pam=not args.no_pam, pid_namespace=count) as server:
        for _ in range(args.rounds):
            hk = time_kit(server, command, n, count)
            ti = time_testinfra(server, command, n, count)
            channels = time_kit_channels(server, command, n)
            kit_times.append(hk.total)
            ti_times.append(ti.total)
            channel_times.append(channels)
            processes = {"hostkit": hk.processes, "testinfra": ti.processes}
            print(
                f"hostkit   {n} commands: {hk.total:7.3f} s  ({hk.total / n * 1000:6.2f} ms each,"
                f" connect {hk.connect * 1000:.0f} ms{_processes(hk)})"
            )
            print(
                f"hostkit, a channel per command: {channels:7.3f} s"
                f"  ({channels / n * 1000:6.2f} ms each)"
            )
            print(
                f"testinfra {n} commands: {ti.total:7.3f} s  ({ti.total / n * 1000:6.2f} ms each,"
                f" connect {ti.connect * 1000:.0f} ms{_processes(ti)})"
            )
    kit_median = statistics.median(kit_times)
    ti_median = statistics.median(ti_times)
    print(
        f"median over {args.rounds} rounds: hostkit {kit_median:.3f} s, "
        f"testinfra {ti_median:.3f} s, ratio {ti_median / kit_median:.1f}x"
    )
    if args.out:
        medians = {
            "hostkit": kit_median,
            "hostkit, a channel per command": statistics.median(channel_times),
            "testinfra": ti_median,
        }
        _write(args.out, n, command, args.rounds, load, medians, processes)
    return 0


def _write(
    out: Path,
    n: int,
    command: str,
    rounds: int,
    load: float,
    medians: dict[str, float],
    processes: dict[str, float | None],
) -> None:
    rows = [
        f"| {tool} | {total / n * 1000:.2f} | {medians['testinfra'] / total:.1f}x "
        f"| {'-' if processes.get(tool) is None else f'{processes[tool]:.2f}'} |"
        for tool, total in medians.items()
    ]
    out.write_text(
        "# Per command over one sshd\n\n"
        f"`python benchmarks/ssh_commands.py {shlex.join(sys.argv[1:])}`: {n} x `{command}`, "
        f"median of {rounds} rounds, on {os.cpu_count()} cores, "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; 1-minute load average "
        f"{load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end. The narrative and "
        "earlier pairs are in results-ssh-commands.md.\n\n"
        "| tool | ms per command | testinfra / it | host processes per command |\n"
        "|---|---|---|---|\n" + "\n".join(rows) + "\n"
    )


if __name__ == "__main__":
    sys.exit(main())
