"""Stand-ins for what no reachable repository serves here: the kubelet package.

Only its unit file and `kubelet --version` are read by the checks, so a unit and a
script that answers --version stand in for it; nothing here pretends to run pods.
"""

from __future__ import annotations

KUBELET_UNIT = """[Unit]
Description=Stands in for kubelet: the checks read its unit and its --version
[Service]
ExecStart=/usr/local/bin/kubelet
[Install]
WantedBy=multi-user.target
"""


def kubelet_stub(version: str) -> bytes:
    return f'#!/bin/sh\n[ "$1" = --version ] && echo "Kubernetes v{version}"\nexit 0\n'.encode()


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
