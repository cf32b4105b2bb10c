"""What a simulated install would take away, read from the package manager's own answer.

Recordings in data/packages: `apt-get -s install` (apt 2.6.1, Debian 12) of a package that
an installed one Provides, Conflicts with and Replaces, with a second installed package
depending on that one (built by tests/local/test_package_conflicts.py, as Docker's
containerd.io and docker-ce stand to Debian's containerd); and the transaction table of
`yum install docker-ce` on RHEL 8 (dnf 4) from a public transcript, where Docker's
containerd.io replaces runc and podman, buildah and cockpit-podman are removed.
"""

from __future__ import annotations

from pathlib import Path

from kit.runner.packages import would_remove

DATA = Path(__file__).parent / "data" / "packages"


def test_apt_remv_lines_name_the_packages_that_would_go():
    text = (DATA / "apt-s-install-conflicting.txt").read_text()
    assert would_remove("apt", text) == ["hk-docker-ce", "hk-containerd-io"]


def test_dnf_removing_sections_and_replaced_packages_would_go():
    text = (DATA / "dnf-install-docker-ce-rhel8.txt").read_text()
    assert would_remove("dnf", text) == [
        "runc",
        "buildah",
        "cockpit-podman",
        "podman",
        "podman-catatonit",
    ]


def test_a_plain_install_removes_nothing():
    apt = "Inst hk-tool (1.0 localhost [all])\nConf hk-tool (1.0 localhost [all])\n"
    assert would_remove("apt", apt) == []
    dnf = (
        "Installing:\n containerd.io   x86_64   1.7.27-3.1.el9   docker-ce-stable   44 M\n"
        "\nTransaction Summary\n"
    )
    assert would_remove("dnf", dnf) == []
    # A name with a dot that is no architecture keeps it.
    assert would_remove(
        "dnf", "Upgrading:\n a  x86_64  1  r  1 k\n     replacing  containerd.io 1.6\n"
    ) == ["containerd.io"]
