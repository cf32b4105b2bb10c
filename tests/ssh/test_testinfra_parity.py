"""testinfra's own module tests give the same verdicts through hostkit as through paramiko,
against this machine's sshd (tests/parity says how)."""

from __future__ import annotations

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
