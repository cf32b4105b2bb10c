"""A fleet of benchmark hosts: one sshd per network namespace, optionally behind a delay proxy.

Every host shares this machine's filesystem and kernel (TESTHOSTS.md, "Lighter
still"); what differs per host is its network namespace, so its listening sockets
and its net.* sysctls are its own, and its mount and pid namespaces (see
`_host_argv`): each sshd sees an empty /root of its own, so a login runs no start-up
file of this machine's root; a private writable tmpfs at `Fleet.private`, the one
place a fix may write; /etc, /usr, /var and every /proc/sys but /proc/sys/net
read-only, so nothing a host runs can change this machine's files or kernel-wide
settings; and its processes are numbered in a pid namespace of their own, which
is how `Fleet.processes` counts what a host started.
Everything made here is recorded as it is made
and removed by `Fleet.close`, which also runs on errors and Ctrl-C.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.proxy import DelayProxy
from tests.ssh.sshd import SSHD, keygen

PREFIX = "hkb"
LOCK = "/run/hostkit-bench-fleet.lock"
NET = "10.78"


@dataclass
class Host:
    index: int
    netns: str
    veth: str
    address: str  # the namespace side of the veth pair, where sshd listens
    host_key: Path
    proc: subprocess.Popen[bytes] | None = None  # unshare, whose one child is sshd
    sshd_pid: int = 0  # pid 1 of the host's pid namespace, in this machine's numbering
    port: int = 22  # what clients dial: 22 on `address`, or the proxy's port on 127.0.0.1
    dial: str = ""

    @property
    def endpoint(self) -> str:
        return self.dial if self.port == 22 else f"{self.dial}:{self.port}"

    def known_hosts_line(self) -> str:
        keytype, blob = self.host_key.with_suffix(".pub").read_text().split()[:2]
        name = self.dial if self.port == 22 else f"[{self.dial}]:{self.port}"
        return f"{name} {keytype} {blob}\n"


def _addresses(index: int) -> tuple[str, str]:
    """A /30 per host: .1 on this side, .2 in the namespace."""
    third, slot = divmod(index, 64)
    base = slot * 4
    return f"{NET}.{third}.{base + 1}", f"{NET}.{third}.{base + 2}"


@dataclass
class Fleet:
    root: Path
    client_key: Path
    known_hosts: Path
    ssh_config: Path
    hosts: list[Host] = field(default_factory=list)
    proxy: DelayProxy | None = None
    # The host's private tmpfs: the same path in every host's mount namespace, a
    # different tmpfs behind it in each; on this machine an empty directory.
    private: Path = Path("/nonexistent")

    def specs(self, scheme: str, user: str = "root") -> list[str]:
        return [f"{scheme}://{user}@{h.endpoint}" for h in self.hosts]

    def hosts_cpu(self, count: int) -> float:
        """CPU seconds the first `count` sshd listeners and their finished sessions used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for host in self.hosts[:count]:
            if not host.sshd_pid:
                continue
            # sshd is pid 1 of its namespace: every process there that ends, a session's
            # or an orphan's, is reaped by it, so its children's CPU lands in its own.
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{host.sshd_pid}/stat").read_text()
                fields = stat.rpartition(")")[2].split()
                # utime, stime, cutime, cstime: fields 14-17 of proc(5), counted from 1.
                total += sum(int(f) for f in fields[11:15])
        return total / ticks

    def last_pids(self, count: int) -> list[int]:
        """The last pid each of the first `count` hosts handed out, in its own numbering.

        A child that `nsenter` forks into the host's pid namespace takes the next pid
        there and prints it: that is one more than the namespace's last pid before. Pids
        in a fresh namespace only grow (pid_max is far off), so the difference of two
        readings, less the one probe, is the number of processes the host started.
        """
        return [_probe_pid(h) - 1 for h in self.hosts[:count]]

    def processes(self, before: list[int]) -> int:
        """Processes the hosts of `before` started since it was read (the probe excluded)."""
        after = self.last_pids(len(before))
        return sum(a - b - 1 for a, b in zip(after, before, strict=True))

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for host in self.hosts:
            if host.proc is not None and host.proc.poll() is None:
                # unshare ignores SIGTERM while it waits for its child: sshd is told, and
                # unshare ends with it (a host whose sshd never started: unshare is killed,
                # and --kill-child takes whatever it started with it).
                if host.sshd_pid:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(host.sshd_pid, signal.SIGTERM)
                else:
                    host.proc.kill()
        for host in self.hosts:
            if host.proc is not None:
                try:
                    host.proc.wait(5)
                except subprocess.TimeoutExpired:
                    host.proc.kill()
                    host.proc.wait()
            # Deleting the namespace removes its veth end, and with it the peer.
            subprocess.run(["ip", "link", "del", host.veth], capture_output=True)
            subprocess.run(["ip", "netns", "del", host.netns], capture_output=True)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def _stale_cleanup() -> None:
    """Remove namespaces a killed earlier run of this benchmark left behind (ours by prefix)."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        name = line.split()[0] if line.split() else ""
        if name.startswith(f"{PREFIX}-"):
            subprocess.run(["ip", "netns", "pids", name], capture_output=True)
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


def _add_host(fleet: Fleet, index: int, seed: str) -> Host:
    netns, veth = f"{PREFIX}-{index}", f"{PREFIX}{index}"
    near, far = _addresses(index)
    host_key = keygen(fleet.root / f"host{index}_ed25519_key")
    host = Host(index, netns, veth, far, host_key, dial=far)
    fleet.hosts.append(host)  # recorded before it exists, so close() always cleans it
    _ip("netns", "add", netns)
    _ip("link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", netns)
    _ip("addr", "add", f"{near}/30", "dev", veth)
    _ip("link", "set", veth, "up")
    _ip("-n", netns, "addr", "add", f"{far}/30", "dev", "eth0")
    _ip("-n", netns, "link", "set", "eth0", "up")
    _ip("-n", netns, "link", "set", "lo", "up")
    conf = fleet.root / f"sshd{index}.conf"
    # 0.0.0.0 here is the namespace's own wildcard: only eth0 and lo exist in it.
    conf.write_text(
        "Port 22\n"
        "ListenAddress 0.0.0.0\n"
        f"HostKey {host_key}\n"
        f"PidFile {fleet.root / f'sshd{index}.pid'}\n"
        f"AuthorizedKeysFile {fleet.root / 'authorized_keys'}\n"
        "StrictModes no\n"
        "UsePAM no\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\n"
        "MaxSessions 64\n"
        "MaxStartups 200\n"
        "UseDNS no\n"
        "LogLevel ERROR\n"
    )
    log = open(fleet.root / f"sshd{index}.log", "ab")  # noqa: SIM115 - sshd keeps it
    with log:
        host.proc = subprocess.Popen(
            [
                *("ip", "netns", "exec", netns),
                *_host_argv(fleet.private, seed),
                *(SSHD, "-D", "-e", "-f", str(conf)),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=SSHD_ENV,
        )
    return host


# sshd hands its sessions an environment of its own making; a minimal one here keeps this
# process's (a pyenv PATH, say) out of anything sshd passes through.
SSHD_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}


def _host_argv(private: Path, seed: str) -> list[str]:
    """Run sshd as pid 1 of pid and mount namespaces of its own, with this machine kept
    out of reach.

    /root is an empty tmpfs: the hosts log in as this machine's root, whose start-up
    files belong to whoever uses the machine (here a `.bashrc` that runs `pyenv init`,
    about 100 ms), and Debian's bash reads `~/.bashrc` for every command sshd runs. A real
    host's root has Debian's light defaults; an empty home is closer to that than this
    one. `private` gets a tmpfs of the host's own, where `seed` (shell, run once with
    $PRIVATE set to it) lays out what the host's checks find. /etc, /usr and /var are
    bound read-only over themselves, and /proc/sys too but for /proc/sys/net, which
    belongs to the host's network namespace: nothing a host runs can write there or set
    a sysctl but its own namespace's. (/tmp, /run and /home stay writable and shared;
    the fix suite writes only its tmpfs, and benchmarks/fix.py compares /etc and
    /proc/sys before and after.) The mounts vanish with the
    namespace when sshd exits, so nothing is left behind. `unshare --fork` makes sshd
    its one child, found by `_sshd_pid`; `--kill-child` ends sshd, and with it every
    process of the namespace, when unshare is stopped.
    """
    p = shlex.quote(str(private))
    script = (
        "set -e; mount -t tmpfs -o mode=0700,size=1m hkb-home /root; "
        f"mount -t tmpfs -o mode=0755,size=16m hkb-private {p}; "
        f"PRIVATE={p}; {seed or ':'}; unset PRIVATE; "
        "for d in /etc /usr /var; do mount --bind $d $d; mount -o remount,bind,ro $d; done; "
        "mount --bind /proc/sys /proc/sys; mount --bind /proc/sys/net /proc/sys/net; "
        "mount -o remount,bind,ro /proc/sys; "
        'exec "$@"'
    )
    return [
        *("unshare", "--mount", "--propagation", "private"),
        *("--pid", "--fork", "--mount-proc", "--kill-child"),
        *("sh", "-c", script, "sh"),
    ]


def _sshd_pid(unshare_pid: int, timeout: float = 5) -> int:
    """unshare's one child: sshd (after the mount script execs it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{unshare_pid}/task/{unshare_pid}/children").read_text()
            if children.split():
                return int(children.split()[0])
        time.sleep(0.02)
    raise RuntimeError(f"unshare {unshare_pid} started no sshd")


def _settle(fleet: Fleet, timeout: float = 3) -> None:
    """Wait until no host starts processes: sshd forks for each connection `_wait_listening`
    made, a little after it was made, and a count begun before that would include it."""
    deadline = time.monotonic() + timeout
    last = fleet.last_pids(len(fleet.hosts))
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = fleet.last_pids(len(fleet.hosts))
        if all(b - a == 1 for a, b in zip(last, now, strict=True)):  # the probe alone
            return
        last = now


def _probe_pid(host: Host) -> int:
    argv = ["nsenter", "-t", str(host.sshd_pid), "-p", "--", "sh", "-c", "echo $$"]
    return int(subprocess.run(argv, capture_output=True, text=True, check=True).stdout)


def _wait_listening(hosts: list[Host], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    pending = list(hosts)
    while pending and time.monotonic() < deadline:
        for host in list(pending):
            assert host.proc is not None
            if host.proc.poll() is not None:
                raise RuntimeError(f"sshd in {host.netns} exited; see sshd{host.index}.log")
            with socket.socket() as s:
                s.settimeout(0.5)
                if s.connect_ex((host.address, 22)) == 0:
                    host.sshd_pid = _sshd_pid(host.proc.pid)
                    pending.remove(host)
        if pending:
            time.sleep(0.05)
    if pending:
        raise RuntimeError(f"sshd not listening in {[h.netns for h in pending]}")


@contextlib.contextmanager
def running(count: int, rtt_ms: float = 0.0, seed: str = "") -> Iterator[Fleet]:
    """Start `count` hosts; with rtt_ms > 0 every connection goes through the delay proxy.

    seed: shell run in each host's mount namespace with $PRIVATE naming its tmpfs, to
    lay out the state its checks find there (see `_host_argv`)."""
    if os.geteuid() != 0:
        raise SystemExit("the benchmark makes network namespaces: run it as root")
    with _only_fleet():
        yield from _running(count, rtt_ms, seed)


@contextlib.contextmanager
def _only_fleet() -> Iterator[None]:
    """One fleet on the machine at a time: namespaces share one prefix and one address
    range, and a second fleet's stale-namespace cleanup would take the first one's."""
    with open(LOCK, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit(
                f"another benchmark fleet is running (it holds {LOCK}); wait for it to end"
            ) from None
        yield


def _running(count: int, rtt_ms: float, seed: str) -> Iterator[Fleet]:
    _stale_cleanup()
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hostkit-bench-") as tmp:
        root = Path(tmp)
        client_key = keygen(root / "client_key")
        (root / "authorized_keys").write_text(client_key.with_suffix(".pub").read_text())
        fleet = Fleet(root, client_key, root / "known_hosts", root / "ssh_config")
        fleet.private = root / "private"
        fleet.private.mkdir()
        try:
            for index in range(count):
                _add_host(fleet, index, seed)
            _wait_listening(fleet.hosts)
            _settle(fleet)
            if rtt_ms > 0:
                fleet.proxy = DelayProxy(rtt_ms / 1000.0)
                for host in fleet.hosts:
                    host.dial, host.port = "127.0.0.1", fleet.proxy.add((host.address, 22))
                fleet.proxy.start()
            fleet.known_hosts.write_text("".join(h.known_hosts_line() for h in fleet.hosts))
            # testinfra's paramiko backend reads IdentityFile; it ignores UserKnownHostsFile.
            fleet.ssh_config.write_text(
                "Host *\n"
                "  User root\n"
                f"  IdentityFile {client_key}\n"
                f"  UserKnownHostsFile {fleet.known_hosts}\n"
                "  StrictHostKeyChecking yes\n"
            )
            yield fleet
        finally:
            fleet.close()
