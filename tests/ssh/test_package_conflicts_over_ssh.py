"""The package install's conflict refusal over SSH, through a sudo that wants a password:
the simulation (apt-get -s) runs as root on the host and its answer comes back intact.

The packages and the private apt root are tests/local/test_package_conflicts.py's (real
.deb files in a local file: repository; apt's dpkg is /bin/false): nothing of the host's
own apt or dpkg state is read or written.
"""

from __future__ import annotations

import dataclasses
import shutil

import pytest

from kit.connection import Connection
from kit.errors import FixRefused
from kit.facts import gather_facts
from kit.runner import packages
from tests.local.test_package_conflicts import TOOLS, build, private_manager
from tests.ssh import sshd

pytestmark = pytest.mark.skipif(
    not all(map(shutil.which, TOOLS)), reason="needs dpkg-deb, dpkg-scanpackages and apt-get"
)


def test_an_install_that_would_remove_packages_is_refused_over_ssh(
    conn: Connection, server: sshd.Sshd, tmp_path
) -> None:
    root = build(tmp_path)
    before = (root / "dpkg" / "status").read_text()
    facts = dataclasses.replace(
        gather_facts(conn, sudo=True), package_manager=private_manager(root)
    )
    packages.update_package_cache(conn, facts, max_age=0)
    with pytest.raises(FixRefused) as refused:
        packages.install_packages(conn, facts, "hk-containerd")
    assert "would remove the installed packages hk-docker-ce, hk-containerd-io" in str(
        refused.value
    )
    assert server.users[sshd.USER] not in str(refused.value)
    assert (root / "dpkg" / "status").read_text() == before
