"""Stand-ins for what no reachable repository serves here: the kubelet package.

Two kinds. `kubelet_stub` answers --version and exits: the checks that read the unit and
the version need no more. `running_kubelet` is a small static program, compiled here,
that answers --version the same way and otherwise stays running with the arguments it was
given, so /proc/PID/cmdline (what `ps`, and so kube-bench, reads) carries the installer's
flags exactly as a real kubelet's does: argv[0] is the kubelet's path, not a shell's. It
runs no pods and opens no port.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from pathlib import Path

from kit.testhosts import image

KUBELET_UNIT = """[Unit]
Description=Stands in for kubelet: the checks read its unit and its --version
[Service]
ExecStart=/usr/local/bin/kubelet
[Install]
WantedBy=multi-user.target
"""

# Static, so one build runs on Debian 11's older C library as on 13's.
_RUNNING_SOURCE = r"""
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("Kubernetes v%s\n", KUBELET_VERSION);
            return 0;
        }
    }
    signal(SIGTERM, SIG_DFL);
    for (;;)
        pause();
}
"""


def kubelet_stub(version: str) -> bytes:
    return f'#!/bin/sh\n[ "$1" = --version ] && echo "Kubernetes v{version}"\nexit 0\n'.encode()


def running_kubelet(version: str) -> bytes:
    """The running stand-in's binary for `version`, compiled once and cached."""
    if not all(c.isdigit() or c == "." for c in version):
        raise ValueError(f"not a Kubernetes version: {version!r}")
    key = hashlib.sha256(f"{_RUNNING_SOURCE}{version}".encode()).hexdigest()[:16]
    cached = image.cache_dir() / "standins" / f"kubelet-{key}"
    if not cached.exists():
        compiler = shutil.which("gcc") or shutil.which("cc")
        if compiler is None:
            raise RuntimeError("no C compiler (gcc) to build the running kubelet stand-in")
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
            source, out = Path(tmp) / "kubelet.c", Path(tmp) / "kubelet"
            source.write_text(_RUNNING_SOURCE)
            subprocess.run(
                [compiler, "-static", "-Os", "-s", f'-DKUBELET_VERSION="{version}"',
                 "-o", str(out), str(source)],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            out.replace(cached)  # whole or not at all: a rename in one directory
    return cached.read_bytes()


def install_kubelet(conn, version: str) -> None:
    """The unit, disabled, and the binary, as a package would leave them before `kubeadm join`."""
    conn.put(KUBELET_UNIT.encode(), "/etc/systemd/system/kubelet.service")
    conn.put(kubelet_stub(version), "/usr/local/bin/kubelet", mode="0755")
    conn.run("systemctl daemon-reload && systemctl disable -q kubelet.service").check()


def remove_kubelet(conn) -> None:
    conn.run(
        "systemctl disable -q kubelet.service; rm -f /etc/systemd/system/kubelet.service"
        " /usr/local/bin/kubelet; systemctl daemon-reload"
    )
