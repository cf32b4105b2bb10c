"""A Kubernetes node under systemd, faked in namespaces of its own, for the facts script.

The programs the gather asks (systemctl, timedatectl, chronyc, nft, iptables, ufw,
containerd, ctr, kubelet) are stubs first on PATH: this machine runs no systemd, so
what they would answer cannot exist here. Files are real: /etc and /var/lib are
overlays and /run a tmpfs, in a mount namespace that goes away with the run. The
kubelet and kube-proxy are two sleeps in a pid namespace of their own, over whose /proc
entries a directory with the comm and cmdline of a kubelet and a kube-proxy is mounted:
seen from outside (where other tests look for a kubelet) they are sleeps.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

# systemctl as systemd answers it: per unit, its unit file state (is-enabled, which
# names an alias "alias") and the properties of the unit it loads (show).
SYSTEMCTL = r"""#!/usr/bin/env python3
import os, subprocess, sys
SYSV_INSTALL = "/lib/systemd/systemd-sysv-install"
NATIVE = {
    "chrony.service": ("enabled", "chrony.service"),
    "chronyd.service": ("alias", "chrony.service"),
    "systemd-timesyncd.service": ("disabled", "systemd-timesyncd.service"),
    "swap.target": ("static", "swap.target"),
    "containerd.service": ("enabled", "containerd.service"),
    "kubelet.service": ("enabled", "kubelet.service"),
    "systemd-resolved.service": ("enabled", "systemd-resolved.service"),
}
PROPS = {
    "chrony.service": {"ActiveState": "active", "UnitFileState": "enabled"},
    "containerd.service": {
        "ActiveState": "active", "UnitFileState": "enabled",
        "FragmentPath": "/usr/lib/systemd/system/containerd.service",
        "Environment": "ENABLE_CRI_SANDBOXES=sandboxed HTTP_PROXY=http://proxy:3128",
        "EnvironmentFiles": ["-/etc/default/containerd (ignore_errors=yes)"],
    },
    "kubelet.service": {
        "ActiveState": "active", "UnitFileState": "enabled",
        "FragmentPath": "/etc/systemd/system/kubelet.service",
        "DropInPaths": "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
        "Environment": "KUBELET_KUBECONFIG_ARGS=--kubeconfig=/etc/kubernetes/kubelet.conf",
        "EnvironmentFiles": [
            "/etc/default/kubelet (ignore_errors=yes)",
            "/var/lib/kubelet/kubeadm-flags.env (ignore_errors=yes)",
        ],
    },
    "systemd-resolved.service": {"ActiveState": "active", "UnitFileState": "enabled"},
}
ORDER = ("Id", "LoadState", "ActiveState", "FragmentPath", "DropInPaths", "UnitFileState",
         "Environment", "EnvironmentFiles")
OLD = os.environ.get("HK_SYSTEMD") == "old"

def name(u):
    return u if "." in u else u + ".service"

def sysv(u):
    return u not in NATIVE and os.path.exists("/etc/init.d/" + u.removesuffix(".service"))

args = [a for a in sys.argv[1:] if a != "--"]
verb, quiet = args[0], "--quiet" in args
units = [name(a) for a in args[1:] if not a.startswith("-")]
if verb == "is-enabled":
    ok, out = False, []
    # SysV compatibility answers for init scripts' units first, as systemctl does
    # (systemd's src/systemctl/systemctl-sysv-compat.c, enable_sysv_units): it runs
    # LIBEXECDIR/systemd-sysv-install is-enabled NAME, this machine's, and prints "enabled"
    # where that exits 0, "disabled" otherwise.
    for u in [u for u in units if sysv(u)]:
        run = [SYSV_INSTALL, "is-enabled", u.removesuffix(".service")]
        try:
            code = subprocess.run(run, stdin=subprocess.DEVNULL).returncode
        except OSError:
            code = 1
        out.append("enabled" if code == 0 else "disabled")
        ok = ok or code == 0
    for u in [u for u in units if not sysv(u)]:
        if u not in NATIVE:
            if OLD:
                print("\n".join(out)) if out and not quiet else None
                print(f"Failed to get unit file state for {u}: No such file", file=sys.stderr)
                sys.exit(1)
            out.append("not-found")
            continue
        state = NATIVE[u][0]
        good = ("enabled", "enabled-runtime", "static", "alias", "indirect", "generated")
        ok = ok or state in good
        out.append(state)
    if out and not quiet:
        print("\n".join(out))
    sys.exit(0 if ok else 1)
if verb == "is-active":
    state = PROPS.get(NATIVE.get(units[0], ("", units[0]))[1], {}).get("ActiveState", "inactive")
    if not quiet:
        print(state)
    sys.exit(0 if state == "active" else 3)
if verb == "show":
    asked = [args[i + 1] for i, a in enumerate(args) if a == "-p"]
    units = [a for a in args[1:] if not a.startswith("-") and a not in asked]
    value = "--value" in args
    blocks = []
    for u in units:
        loaded = NATIVE.get(name(u), ("", None))[1]
        props = dict(PROPS.get(loaded, {}))
        props.setdefault("ActiveState", "inactive")
        props["LoadState"] = "loaded" if loaded else "not-found"
        props["Id"] = loaded or name(u)
        # The unit file state of the unit it loads, which show says for every unit.
        props.setdefault("UnitFileState", NATIVE[loaded][0] if loaded else "")
        lines = []
        for p in ORDER:
            if p not in asked:
                continue
            for v in (props.get(p, "") if isinstance(props.get(p), list) else [props.get(p, "")]):
                lines.append(v if value else f"{p}={v}")
        blocks.append("\n".join(lines))
    print("\n\n".join(blocks))
    sys.exit(0)
sys.exit(1)
"""

# ufw status as ufw 0.36 answers it (src/backend_iptables.py, get_status): "Status:
# inactive" where its iptables, /usr/sbin/iptables, exits 1 for -L ufw-user-input -n, an
# error where it fails otherwise. iptables-nft's chains are those of the table ip filter
# the nft stub lists (by its path: ufw itself starts no nft); iptables-legacy's those of
# the node's network namespace, the kernel's own.
UFW = r"""#!/bin/sh
# Its files, or its error (ufw's backend.py, _do_checks).
for f in /etc/default/ufw /etc/ufw/ufw.conf /etc/ufw/user.rules /etc/ufw/before.rules \
    /etc/ufw/after.rules /etc/ufw/user6.rules /etc/ufw/before6.rules /etc/ufw/after6.rules \
    /lib/ufw/ufw-init; do
    [ -f "$f" ] || { echo "ERROR: file '$f' does not exist"; exit 1; }
done
if [ /usr/sbin/iptables -ef /usr/sbin/xtables-nft-multi ]; then
    "${0%/*}/nft" list ruleset 2>/dev/null | awk '
        $1 == "table" { t = $2 " " $3 }
        $1 == "chain" && $2 == "ufw-user-input" && t == "ip filter" { f = 1 }
        END { exit !f }'
else
    /usr/sbin/iptables -w -n -L ufw-user-input >/dev/null 2>&1
fi
case $? in
    0) echo 'Status: active' ;;
    1) echo 'Status: inactive' ;;
    *) echo 'ERROR: problem running iptables' && exit 1 ;;
esac
"""

STUBS = {
    "systemctl": SYSTEMCTL,
    "timedatectl": "#!/bin/sh\necho yes\n",
    # chronyc answers only where a chronyd does, as chronyc does (its socket, its port).
    "chronyc": '#!/bin/sh\nfor f in /proc/[0-9]*/comm; do read -r n <"$f"; '
    "[ \"$n\" = chronyd ] && printf 'Reference ID    : C0000201 (a)\\nLeap status     : Normal\\n'"
    " && exit 0; done\n"
    "echo '506 Cannot talk to daemon' >&2\nexit 1\n",
    "nft": "#!/bin/sh\nprintf 'table inet hk {\\n\\tchain input {\\n\\t\\ttcp dport 22 accept\\n'"
    "\nprintf '\\t}\\n}\\n'\n",
    "iptables": "#!/bin/sh\nprintf -- '-P INPUT ACCEPT\\n'\n"
    "printf -- '-A INPUT -p tcp --dport 22 -j ACCEPT\\n'\n",
    "ufw": UFW,
    "containerd": "#!/bin/sh\nprintf 'version = 2\\n[plugins]\\n  sandbox_image = \"pause\"\\n'\n",
    "ctr": "#!/bin/sh\nprintf 'TYPE ID PLATFORMS STATUS\\nio.containerd.grpc.v1 cri - ok\\n'\n",
    "kubelet": "#!/bin/sh\necho 'Kubernetes v1.31.1'\n",
}

# The fake node's timedatectl asks timedated over the system bus, as timedatectl does
# (namespaced_node's, without a bus, is STUBS').
_BUS_TIMEDATECTL = (
    "#!/bin/sh\n[ -S /run/dbus/system_bus_socket ] || "
    "{ echo 'Failed to connect to bus: No such file or directory' >&2; exit 1; }\necho yes\n"
)

# Files of a kubeadm node, in the overlays.
FILES = {
    "/etc/systemd/system/kubelet.service": "[Service]\nExecStart=/usr/bin/kubelet\n",
    "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf": (
        '[Service]\nEnvironment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"\n'
        "EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\n"
        "ExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS"
        " --config-dir /etc/kubernetes/kubelet.conf.d\n"
    ),
    "/etc/default/kubelet": "KUBELET_EXTRA_ARGS='--config /etc/kubernetes/kubelet-config.yaml'\n",
    "/var/lib/kubelet/kubeadm-flags.env": 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/containerd/containerd.sock"\n',
    "/var/lib/kubelet/config.yaml": (
        "kind: KubeletConfiguration\nauthentication:\n  x509:\n"
        "    clientCAFile: /etc/kubernetes/pki/ca.crt\n"
    ),
    "/etc/kubernetes/kubelet-config.yaml": '  clientCAFile:  "/etc/kubernetes/pki/other-ca.crt"\n',
    "/etc/kubernetes/kubelet.conf.d/20-a.conf": "a: 1\n",
    "/etc/kubernetes/kubelet.conf.d/sub/30-b.conf": "b: 2",
    "/etc/kubernetes/pki/ca.crt": "-----BEGIN CERTIFICATE-----\n",
    "/etc/kubernetes/proxy.conf": (
        "kind: KubeProxyConfiguration\n  metricsBindAddress: 0.0.0.0:10249\nclientKey: x\n"
    ),
    "/etc/containerd/config.toml": "version = 2\n",
    "/etc/default/containerd": "HTTPS_PROXY=http://proxy:3128",
    "/etc/ufw/ufw.conf": "ENABLED=no\n",
    # The rest of ufw's files, as its package installs them.
    "/etc/default/ufw": "IPV6=yes\n",
    **{f"/etc/ufw/{n}.rules": "*filter\nCOMMIT\n" for n in ("user", "before", "after")},
    **{f"/etc/ufw/{n}6.rules": "*filter\nCOMMIT\n" for n in ("user", "before", "after")},
    "/lib/ufw/ufw-init": "#!/bin/sh\n",
    "/etc/init.d/ntp": "#!/bin/sh\n",
    "/etc/environment": 'PATH="/usr/local/sbin:/usr/bin"\nNO_PROXY=localhost\n',
    "/etc/sysctl.conf": "vm.swappiness = 10\n",
    "/etc/NetworkManager/conf.d/hk.conf": "[main]\ndns=none\n",
    "/run/systemd/resolve/stub-resolv.conf": "nameserver 127.0.0.53\n",
}
# How the node resolves its host name: Debian's installer names it in /etc/hosts, and
# libc-bin's nsswitch.conf (/usr/share/libc-bin/nsswitch.conf) reads files first. The node
# has no UTS namespace of its own: its host name is this machine's.
NAMES = {
    "/etc/hosts": f"127.0.0.1 localhost\n127.0.1.1 {socket.gethostname()}\n",
    "/etc/nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
    "networks: files\nprotocols: db files\nservices: db files\nethers: db files\n",
}
LINKS = {
    "/etc/sysctl.d/99-sysctl.conf": "../sysctl.conf",
    "/etc/resolv.conf": "../run/systemd/resolve/stub-resolv.conf",
}

# The node's files: /etc and /var/lib overlays, its own /run, the files written, the
# stubs first on PATH. The start of every node script (tests/local/namespaced_node.py too).
SETUP = r"""set -e
w=$HK_WORK
for d in etc var/lib usr/lib; do
    n=$(echo "$d" | tr / _)
    mkdir -p "$w/$n.up" "$w/$n.wk"
    mount -t overlay overlay -o "lowerdir=/$d,upperdir=$w/$n.up,workdir=$w/$n.wk" "/$d"
done
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system /run/containerd
python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("/run/containerd/containerd.sock")'
python3 "$HK_WORK/files.py"
PATH="$w/bin:$PATH"
"""

# Mounts the overlays, writes the node's files, starts the kubelet and kube-proxy, then
# runs each script given (files $1...) into out.N, and into count.N the processes it
# started: pids in the namespace are handed out one after another, the first cat takes
# the pid before the script's sh, the second the one after the script's last process.
_NODE = (
    SETUP
    + r"""fake() { # NAME ARGS...: a sleep whose /proc entry says it is NAME run with ARGS
    sleep 600 &
    n=$1
    shift
    mkdir -p "$w/proc.$n"
    echo "$n" >"$w/proc.$n/comm"
    printf '%s\000' "$@" >"$w/proc.$n/cmdline"
    [ ! -e "$w/cmdline.$n" ] || cp "$w/cmdline.$n" "$w/proc.$n/cmdline"
    mount --bind "$w/proc.$n" "/proc/$!"
}
# The system bus's socket (where D-Bus runs).
if [ -z "$HK_NO_BUS" ]; then
    mkdir -p /run/dbus
    python3 -c 'import socket; socket.socket(socket.AF_UNIX).bind("/run/dbus/system_bus_socket")'
fi
# The node's own listeners, in its own network namespace: the kubelet's ports.
ip link set lo up
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 10250)); s.listen()
t = socket.socket(socket.AF_INET6); t.bind(("::", 10256)); t.listen()
open(sys.argv[1], "w").close(); time.sleep(600)' "$w/listening" &
while [ ! -e "$w/listening" ]; do sleep 0.05; done
fake kubelet /usr/bin/kubelet --config=/etc/kubernetes/kubelet-config.yaml --v=2
fake kube-proxy /usr/local/bin/kube-proxy --config=/var/lib/kube-proxy/config.conf
for n in $HK_PROCS; do fake "$n" "/usr/sbin/$n"; done
# More of the node's own sockets: UDP ports bound on loopback.
for p in $HK_UDP; do
    python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").close(); time.sleep(600)' "$p" "$w/udp.$p" &
    while [ ! -e "$w/udp.$p" ]; do sleep 0.05; done
done
set +e
i=0
for s; do
    i=$((i + 1))
    t=$(cat "$s")
    a=$(cat /proc/sys/kernel/ns_last_pid)
    sh -c "$t" hostkit-facts /etc/kubernetes/pki/ca.crt /nonexistent -- bash zz-absent \
        >"$w/out.$i" 2>/dev/null
    b=$(cat /proc/sys/kernel/ns_last_pid)
    echo $((b - a - 2)) >"$w/count.$i"
    # The processes themselves, for a failure's message: a second run, under strace.
    [ "$i" != "$HK_TRACE" ] || strace -f -qq -s 48 -e trace=execve,exit_group -e signal=none \
        -o "$w/trace.$i" sh -c "$t" hostkit-facts /etc/kubernetes/pki/ca.crt /nonexistent \
        -- bash zz-absent >/dev/null 2>&1
done
"""
)


def run_scripts(
    work: Path,
    scripts: list[str],
    *,
    old_systemd: bool = False,
    files: dict[str, str] | None = None,
    traced: int | None = None,
    procs: tuple[str, ...] = (),
    stubs: dict[str, str] | None = None,
    udp: tuple[int, ...] = (),
    cmdlines: dict[str, bytes] | None = None,
    bus: bool = True,
) -> list[str]:
    """The raw answers of scripts on the fake node, one after another; files: more of the
    node's files, or other texts for them; traced: the script (by its index, from 0) that
    runs a second time under strace, for started(); procs: more processes running, by
    name (comm); stubs: other answers of the stubbed programs; udp: UDP ports more sockets
    hold on loopback; cmdlines: other command lines (/proc/PID/cmdline) of the kubelet or
    kube-proxy; bus: whether the system bus's socket is there (D-Bus runs)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a fake node in namespaces of its own needs root and unshare")
    for name, raw in (cmdlines or {}).items():
        (work / f"cmdline.{name}").write_bytes(raw)
    bindir = work / "bin"
    bindir.mkdir(exist_ok=True)
    for name, body in (STUBS | {"timedatectl": _BUS_TIMEDATECTL} | (stubs or {})).items():
        (bindir / name).write_text(body)
        (bindir / name).chmod(0o755)
    (work / "files.py").write_text(
        "import os\n"
        f"FILES = {FILES | NAMES | (files or {})!r}\nLINKS = {LINKS!r}\n"
        "for p, t in FILES.items():\n"
        "    os.makedirs(os.path.dirname(p), exist_ok=True)\n"
        "    open(p, 'w').write(t)\n"
        "for p, t in LINKS.items():\n"
        "    os.makedirs(os.path.dirname(p), exist_ok=True)\n"
        "    os.path.lexists(p) and os.remove(p)\n"
        "    os.symlink(t, p)\n"
    )
    paths = []
    for i, text in enumerate(scripts):
        path = work / f"script.{i}"
        path.write_text(text)
        paths.append(str(path))
    if traced is not None and shutil.which("strace") is None:
        pytest.skip("the list of a script's processes needs strace")
    env = {
        **os.environ,
        "HK_WORK": str(work),
        "HK_SYSTEMD": "old" if old_systemd else "new",
        "HK_TRACE": "" if traced is None else str(traced + 1),
        "HK_PROCS": " ".join(procs),
        "HK_NO_BUS": "" if bus else "1",
        "HK_UDP": " ".join(str(p) for p in udp),
    }
    # A network namespace of its own too: the machine's sockets, which other tests open and
    # close while the scripts run, are not the node's.
    subprocess.run(
        [
            "unshare",
            "--net",
            "--mount",
            "--pid",
            "--fork",
            "--mount-proc",
            "sh",
            "-c",
            _NODE,
            "node",
            *paths,
        ],
        env=env,
        check=True,
        timeout=300,
    )
    return [(work / f"out.{i + 1}").read_text() for i in range(len(scripts))]


def counts(work: Path, scripts: int) -> list[int]:
    """The processes each script of the last run_scripts(work, ...) started."""
    return [int((work / f"count.{i + 1}").read_text()) for i in range(scripts)]


_EXECVE = re.compile(r"^(\d+) +execve\(\"[^\"]*\", \[(.*?)\]")
_RESUMED = re.compile(r"^(\d+) +<\.\.\. execve resumed>.*= 0$")
_EXIT = re.compile(r"^(\d+) +exit_group\(")
_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"(\.\.\.)?')


def started(work: Path, index: int) -> list[str]:
    """The processes script number index (from 0) of the last run_scripts(work, ...,
    traced=index) started, as strace saw them: each one's command line, "(subshell)" for
    one that ran no program; the script's own sh is not one of them."""
    programs: dict[str, str] = {}
    pending: dict[str, str] = {}
    for line in (work / f"trace.{index + 1}").read_text().splitlines():
        if m := _EXECVE.match(line):
            args = " ".join(a + dots for a, dots in _ARG.findall(m[2]))[:200]
            if line.endswith("= 0"):
                programs[m[1]] = args
            elif line.endswith("<unfinished ...>"):
                pending[m[1]] = args
        elif m := _RESUMED.match(line):
            programs[m[1]] = pending.pop(m[1], "?")
        elif m := _EXIT.match(line):
            programs.setdefault(m[1], "(subshell)")
    return list(programs.values())[1:]


# The host CPU of one run of a script under dash: what it and every process it started
# used (the stubs' too), as the kernel counts a waited-for child's time; and the shell's
# own, from its /proc/PID/schedstat (nanoseconds on the CPU), read as it ends.
_CPU = r"""python3 - "$@" <<'EOF'
import os, resource, subprocess, sys
text = open(HK_CPU_SCRIPT).read()
text += '\nread -r x _ </proc/$$/schedstat; echo "@@shell-cpu $x"\n'
out = subprocess.run(["dash", "-c", text, "hostkit-facts", *sys.argv[1:]],
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
r = resource.getrusage(resource.RUSAGE_CHILDREN)
own = int(out.rsplit(b"@@shell-cpu ", 1)[1].split()[0]) / 1e9
print(r.ru_utime + r.ru_stime, own)
EOF
"""


def cpu_seconds(work: Path, texts: list[str], runs: int) -> list[list[tuple[float, float]]]:
    """For each of texts, (host CPU, the shell's own CPU) in seconds of each of runs runs
    on the fake node, the texts' runs taking turns."""
    scripts = []
    for i, text in enumerate(texts):
        (work / f"measured.{i}").write_text(text)
        scripts.append(_CPU.replace("HK_CPU_SCRIPT", repr(str(work / f"measured.{i}"))))
    answers = run_scripts(work, scripts * runs)
    found: list[list[tuple[float, float]]] = [[] for _ in texts]
    for i, answer in enumerate(answers):
        total, own = answer.split()
        found[i % len(texts)].append((float(total), float(own)))
    return found


if __name__ == "__main__":
    # python -m tests.local.fake_node [RUNS] [SCRIPT...]: the median host CPU of the gather
    # (gather.sh, or each SCRIPT) on the node, and of the shell alone.
    import statistics
    import sys
    import tempfile

    from kit.facts.gather import script

    runs = int(sys.argv[1]) if sys.argv[1:] else 15
    paths = sys.argv[2:]
    texts = [Path(p).read_text() for p in paths] or [script()]
    with tempfile.TemporaryDirectory() as tmp:
        measured = cpu_seconds(Path(tmp), texts, runs)
    for name, seconds in zip(paths or ["gather.sh"], measured, strict=True):
        total = statistics.median(s[0] for s in seconds) * 1000
        own = statistics.median(s[1] for s in seconds) * 1000
        print(f"{name}: median of {runs}: {total:.1f} ms host CPU, {own:.1f} ms the shell's own")
