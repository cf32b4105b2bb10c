"""What the kit's own access to a host depends on, read from the host in one round trip.

Over SSH that is the sshd units, the units and processes serving this session (the
remote shell's process chain up to init), the TCP port of the connection, and the
connecting user. On a local connection the same chain starts at the controller's
own shell, so it holds the controller and whatever unit runs it. Over nsenter:// (a
hostPID pod entering its node) the chain runs from the entered shell through nsenter
and the controller to the pod's container scope, and the kubelet and container
runtime that keep that pod running are protected by name, as sshd is over SSH.

Reading is split from deciding: `SCRIPT` prints, `parse` turns the text into a
`Lifeline`, and kit.runner.protect decides what an operation may touch.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field

from kit.connection import Connection
from kit.errors import CommandError

# The chain from this shell to init: pid, ppid, start time, name, the systemd cgroup.
# /proc/PID/stat's name may hold spaces and parentheses, so fields are taken after
# its last ")": state is the 1st, ppid the 2nd, start time the 20th.
SCRIPT = r"""
printf 'user\t%s\t%s\n' "$(id -un)" "$(id -u)"
printf 'home\t%s\n' "$HOME"
printf 'groups\t%s\n' "$(id -Gn)"
printf 'ssh\t%s\n' "$SSH_CONNECTION"
p=$$
n=0
while [ -n "$p" ] && [ "$p" -gt 0 ] && [ "$n" -lt 64 ]; do
  stat=$(cat /proc/$p/stat 2>/dev/null) || break
  set -- ${stat##*) }
  cg=$(grep -E '^(0::|[0-9]+:name=systemd:)' /proc/$p/cgroup 2>/dev/null | tr '\n' '|')
  printf 'proc\t%s\t%s\t%s\t%s\t%s\n' "$p" "$2" "${20}" "$cg" "$(cat /proc/$p/comm 2>/dev/null)"
  [ "$p" = 1 ] && break
  p=$2
  n=$((n + 1))
done
"""

# The units that serve SSH logins on the distributions hostkit knows.
SSHD_UNITS = ("ssh.service", "sshd.service", "ssh.socket", "sshd.socket")
SSHD_UNIT_PATTERNS = ("sshd@*.service", "ssh@*.service", "sshd-session@*.service")
# Units whose stop takes the host's network, and with it every SSH connection.
NETWORK_UNITS = (
    "networking.service",
    "systemd-networkd.service",
    "systemd-networkd.socket",
    "NetworkManager.service",
    "wicked.service",
    "network.service",
)
# Units that keep a pod running: stopping one ends, or orphans, a pod that entered its
# node through nsenter://.
KUBELET_UNITS = ("kubelet.service",)
RUNTIME_UNITS = (
    "containerd.service",
    "crio.service",
    "docker.service",
    "docker.socket",
    "cri-docker.service",
    "cri-docker.socket",
)
# A cgroup path element that names a unit (slices are containers of units, not units).
_UNIT = re.compile(r"^[A-Za-z0-9:_.@\\-]+\.(?:service|scope|socket)$")


@dataclass(frozen=True)
class Process:
    pid: int
    ppid: int
    start: str
    name: str
    cgroup: str

    @property
    def unit(self) -> str | None:
        return unit_of_cgroup(self.cgroup)

    @property
    def units(self) -> tuple[str, ...]:
        return units_of_cgroup(self.cgroup)


@dataclass(frozen=True)
class Lifeline:
    """What must keep working for the kit to reach this host again."""

    transport: str  # "ssh", "local" or "nsenter"
    user: str
    uid: int
    home: str
    port: int | None = None
    client: str | None = None  # the address the connection comes from
    groups: frozenset[str] = field(default_factory=frozenset)
    chain: tuple[Process, ...] = ()
    units: frozenset[str] = field(default_factory=frozenset)

    @property
    def pids(self) -> frozenset[int]:
        return frozenset(p.pid for p in self.chain)

    def protects_unit(self, unit: str) -> str | None:
        """Why unit must not be stopped, disabled or restarted; None when it may."""
        unit = normalize_unit(unit)
        if unit in self.units:
            # Named by its outermost process in the chain: the daemon, not a shell under it.
            holder = next((p for p in reversed(self.chain) if unit in p.units), None)
            what = f"{holder.name} (pid {holder.pid})" if holder else "this session"
            return f"{unit} runs {what}, which carries this connection"
        if self.transport == "ssh":
            if unit in SSHD_UNITS or any(fnmatch.fnmatch(unit, p) for p in SSHD_UNIT_PATTERNS):
                return f"{unit} serves SSH logins, which this connection uses"
            if unit in NETWORK_UNITS:
                return f"{unit} brings up the network this connection uses"
        if self.transport == "nsenter":
            if unit in KUBELET_UNITS:
                return f"{unit} is the kubelet, which keeps the pod running hostkit"
            if unit in RUNTIME_UNITS:
                return f"{unit} is a container runtime, which keeps the pod running hostkit"
        return None

    def holder(self, controller: int | None = None) -> Process | None:
        """The process whose life bounds this connection: sshd's session process, or on a
        local connection the controller (whose pid the caller knows)."""
        if self.transport == "ssh":
            return next((p for p in self.chain if p.name.startswith("sshd")), None)
        return next((p for p in self.chain if p.pid == controller), None)


def normalize_unit(name: str) -> str:
    """systemctl's reading of a bare name: `ssh` is `ssh.service`."""
    return name if re.search(r"\.[a-z]+$", name) else f"{name}.service"


def unit_of_cgroup(cgroup: str) -> str | None:
    """The innermost unit a cgroup path names, or None (the root, a slice, a bare path)."""
    units = units_of_cgroup(cgroup)
    return units[-1] if units else None


def units_of_cgroup(cgroup: str) -> tuple[str, ...]:
    """Every unit on a process's cgroup path, outermost first.

    Takes the unified hierarchy's line, else the v1 name=systemd one (lines joined
    by "|"). Stopping any of them ends the process: under user@1000.service, or a
    container's scope, the outer unit takes the inner ones with it.
    """
    lines = [line for line in cgroup.split("|") if line]
    chosen = next((ln for ln in lines if ln.startswith("0::") and ln != "0::/"), None)
    chosen = chosen or next((ln for ln in lines if ":name=systemd:" in ln), None)
    if chosen is None:
        return ()
    path = chosen.split(":", 2)[2]
    return tuple(part for part in path.split("/") if _UNIT.match(part))


def parse(text: str, transport: str) -> Lifeline:
    """The lifeline from SCRIPT's output; chain[0] is the shell that ran it."""
    user, uid, home, port, client = "", -1, "", None, None
    groups: frozenset[str] = frozenset()
    chain: list[Process] = []
    for line in text.splitlines():
        kind, _, rest = line.partition("\t")
        fields = rest.split("\t")
        if kind == "user" and len(fields) == 2 and fields[1].isdigit():
            user, uid = fields[0], int(fields[1])
        elif kind == "home":
            home = rest
        elif kind == "groups":
            groups = frozenset(rest.split())
        elif kind == "ssh":
            parts = rest.split()
            if len(parts) == 4 and parts[3].isdigit():
                client, port = parts[0], int(parts[3])
        elif kind == "proc" and len(fields) == 5 and fields[0].isdigit() and fields[1].isdigit():
            chain.append(Process(int(fields[0]), int(fields[1]), fields[2], fields[4], fields[3]))
    units = frozenset(u for p in chain for u in p.units if u != "init.scope")
    return Lifeline(transport, user, uid, home, port, client, groups, tuple(chain), units)


def read(conn: Connection) -> Lifeline:
    """Ask the host, now: a session may move (reconnects), so this is never cached."""
    res = conn.read("sh -c %s", SCRIPT)
    if not res.ok:
        raise CommandError(res, f"{conn.name}: cannot tell what this connection depends on")
    return parse(res.stdout, conn.spec.scheme)
