"""testinfra's own module tests give the same verdicts through hostkit as through paramiko,
against this machine's sshd (tests/parity says how)."""

from __future__ import annotations

import os
import shutil

import pytest

from tests import parity
from tests.ssh import sshd


def test_upstream_module_tests_same_verdicts(
    pytester: pytest.Pytester, root_server: sshd.Sshd, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = parity.ssh_config(
        root_server.host,
        root_server.port,
        str(root_server.client_key),
        str(root_server.known_hosts),
    )
    theirs, ours = parity.compare(
        pytester, monkeypatch, config, lambda: shutil.rmtree(parity.SCRATCH, ignore_errors=True)
    )
    parity.assert_same(theirs, ours)


def test_upstream_sudo_to_root_as_a_user_same_verdicts(
    pytester: pytest.Pytester, server: sshd.Sshd, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Upstream runs it as its image's user; testinfra's paramiko backend cannot answer a
    # sudo password, so the user here may become root without one, and no other user:
    # www-data is reached as root, through the outer sudo.
    config = parity.ssh_config(
        server.host, server.port, str(server.client_key), str(server.known_hosts)
    )
    theirs, ours = parity.compare(
        pytester, monkeypatch, config, lambda: None, user=sshd.ROOT_ONLY_USER
    )
    assert theirs == {"test_sudo_to_root": "passed"}
    parity.assert_same(theirs, ours, at_least=1)


@pytest.mark.skipif(os.geteuid() != 0, reason="testinfra's chroot backend needs root")
def test_upstream_module_tests_same_verdicts_on_testinfras_own_backend_with_hostkit_installed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Installing hostkit must leave testinfra's other backends alone. docker and podman
    # have no daemon here; chroot is testinfra's backend that runs here for real (as root),
    # on this machine's root, where hostkit does not connect itself.
    without, installed = parity.compare_installed(
        pytester,
        monkeypatch,
        "ChrootBackend",
        lambda: shutil.rmtree(parity.SCRATCH, ignore_errors=True),
        "--connection=chroot",
        "--hosts=/",
    )
    parity.assert_same(without, installed)
