"""A fleet of benchmark hosts: one sshd per network namespace, optionally behind a delay proxy.

Every host shares this machine's filesystem and kernel (TESTHOSTS.md, "Lighter
still"); what differs per host is its network namespace, so its listening sockets
and its net.* sysctls are its own, and each sshd sees an empty /root of its own, so
a login runs no start-up file of this machine's root (see `_clean_home_argv`).
Everything made here is recorded as it is made
and removed by `Fleet.close`, which also runs on errors and Ctrl-C.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
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
    proc: subprocess.Popen[bytes] | None = None
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

    def specs(self, scheme: str, user: str = "root") -> list[str]:
        return [f"{scheme}://{user}@{h.endpoint}" for h in self.hosts]

    def hosts_cpu(self, count: int) -> float:
        """CPU seconds the first `count` sshd listeners and their finished sessions used so far."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for host in self.hosts[:count]:
            if host.proc is None:
                continue
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{host.proc.pid}/stat").read_text()
                fields = stat.rpartition(")")[2].split()
                # utime, stime, cutime, cstime: fields 14-17 of proc(5), counted from 1.
                total += sum(int(f) for f in fields[11:15])
        return total / ticks

    def close(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for host in self.hosts:
            if host.proc is not None and host.proc.poll() is None:
                host.proc.terminate()
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


def _add_host(fleet: Fleet, index: int) -> Host:
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
            ["ip", "netns", "exec", netns, *_clean_home_argv(), SSHD, "-D", "-e", "-f", str(conf)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=SSHD_ENV,
        )
    return host


# sshd hands its sessions an environment of its own making; a minimal one here keeps this
# process's (a pyenv PATH, say) out of anything sshd passes through.
SSHD_ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}


def _clean_home_argv() -> list[str]:
    """Run sshd in a mount namespace of its own whose /root is an empty tmpfs.

    The hosts log in as this machine's root, whose start-up files belong to whoever
    uses the machine (here a `.bashrc` that runs `pyenv init`, about 100 ms), and
    Debian's bash reads `~/.bashrc` for every command sshd runs. A real host's root
    has Debian's light defaults; an empty home is closer to that than this one, and
    the mount vanishes with the namespace when sshd exits, so nothing is left behind
    and the real /root is never touched. `ip netns exec` and `unshare` both exec, so
    the process started is sshd itself and its CPU stays countable by pid.
    """
    script = 'mount -t tmpfs -o mode=0700,size=1m hkb-home /root && exec "$@"'
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"]


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
                    pending.remove(host)
        if pending:
            time.sleep(0.05)
    if pending:
        raise RuntimeError(f"sshd not listening in {[h.netns for h in pending]}")


@contextlib.contextmanager
def running(count: int, rtt_ms: float = 0.0) -> Iterator[Fleet]:
    """Start `count` hosts; with rtt_ms > 0 every connection goes through the delay proxy."""
    if os.geteuid() != 0:
        raise SystemExit("the benchmark makes network namespaces: run it as root")
    with _only_fleet():
        yield from _running(count, rtt_ms)


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


def _running(count: int, rtt_ms: float) -> Iterator[Fleet]:
    _stale_cleanup()
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="hostkit-bench-") as tmp:
        root = Path(tmp)
        client_key = keygen(root / "client_key")
        (root / "authorized_keys").write_text(client_key.with_suffix(".pub").read_text())
        fleet = Fleet(root, client_key, root / "known_hosts", root / "ssh_config")
        try:
            for index in range(count):
                _add_host(fleet, index)
            _wait_listening(fleet.hosts)
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
