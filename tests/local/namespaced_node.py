"""A faked kubeadm node (tests/local/fake_node.py's stubs and files) in mount, network and
pid namespaces of its own, running a shell command inside it: hostkit run as local:// there
reads and changes that node, not this machine.

A node is made from a NodeSpec: more files (or other texts) in its /etc and /var/lib
overlays, the sysctls of its network namespace, the TCP ports it listens on with the name
(comm) of the process holding each, its own stub programs, and the running kubelet's
command line. Everything goes away with
the command: the overlays' upper directories are under the test's directory.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.local import fake_node

# fake_node's SETUP, then the node's own listeners and sysctls, then one command.
_NODE = (
    fake_node.SETUP
    + r"""export PATH
ip link set lo up
while read -r key value; do
    echo "$value" >"/proc/sys/$(echo "$key" | tr . /)"
done <"$w/sysctls"
while read -r port owner; do
    python3 -c 'import socket, sys, time
open("/proc/self/comm", "w").write(sys.argv[2])
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen()
open(sys.argv[3], "w").close(); time.sleep(900)' "$port" "$owner" "$w/listening.$port" &
    while [ ! -e "$w/listening.$port" ]; do sleep 0.05; done
done <"$w/ports"
sleep 900 &
mkdir -p "$w/proc.kubelet"
echo kubelet >"$w/proc.kubelet/comm"
tr '\n' '\000' <"$w/kubelet.args" >"$w/proc.kubelet/cmdline"
mount --bind "$w/proc.kubelet" "/proc/$!"
set +e
sh -c "$HK_COMMAND" >"$w/out" 2>"$w/err"
echo $? >"$w/rc"
"""
)


@dataclass
class NodeSpec:
    files: dict[str, str] = field(default_factory=dict)
    sysctls: dict[str, str] = field(default_factory=dict)
    ports: dict[int, str] = field(default_factory=dict)
    stubs: dict[str, str] = field(default_factory=dict)
    # The running kubelet's command line, which the kubelet's reads take its flags from.
    kubelet: tuple[str, ...] = ("/usr/bin/kubelet", "--config=/etc/kubernetes/kubelet-config.yaml")


@dataclass
class Ran:
    rc: int
    out: str
    err: str


def run_in(work: Path, spec: NodeSpec, command: str, *, timeout: float = 600) -> Ran:
    """command run by sh inside a fresh node made from spec; its exit code and output."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a fake node in namespaces of its own needs root and unshare")
    work.mkdir(parents=True, exist_ok=True)
    bindir = work / "bin"
    bindir.mkdir(exist_ok=True)
    for name, body in (fake_node.STUBS | spec.stubs).items():
        (bindir / name).write_text(body)
        (bindir / name).chmod(0o755)
    (work / "files.py").write_text(
        "import os\n"
        f"FILES = {fake_node.FILES | spec.files!r}\nLINKS = {fake_node.LINKS!r}\n"
        "for p, t in FILES.items():\n"
        "    os.makedirs(os.path.dirname(p), exist_ok=True)\n"
        "    open(p, 'w').write(t)\n"
        "for p, t in LINKS.items():\n"
        "    os.makedirs(os.path.dirname(p), exist_ok=True)\n"
        "    os.path.lexists(p) and os.remove(p)\n"
        "    os.symlink(t, p)\n"
    )
    (work / "sysctls").write_text("".join(f"{k} {v}\n" for k, v in spec.sysctls.items()))
    (work / "kubelet.args").write_text("".join(f"{a}\n" for a in spec.kubelet))
    (work / "ports").write_text("".join(f"{p} {o}\n" for p, o in spec.ports.items()))
    for stale in ("out", "err", "rc", *(f"listening.{p}" for p in spec.ports)):
        (work / stale).unlink(missing_ok=True)
    env = {**os.environ, "HK_WORK": str(work), "HK_COMMAND": command}
    unshare = ["unshare", "--net", "--mount", "--pid", "--fork", "--mount-proc"]
    subprocess.run([*unshare, "sh", "-c", _NODE], env=env, check=True, timeout=timeout)
    return Ran(
        int((work / "rc").read_text()), (work / "out").read_text(), (work / "err").read_text()
    )
