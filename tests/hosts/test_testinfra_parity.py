"""testinfra's own module tests give the same verdicts through hostkit as through paramiko,
against a disposable Debian 12 container (tests/parity says how)."""

from __future__ import annotations

import pytest

from tests import parity

pytestmark = pytest.mark.hosts


def test_upstream_module_tests_same_verdicts_on_a_container(containers, pytester, monkeypatch):
    host = containers[-1]
    opts = host.connect_options
    config = parity.ssh_config(host.address, host.port, opts["identity_file"], opts["known_hosts"])

    def reset() -> None:
        with host.connect() as conn:
            conn.run("rm -rf %s", parity.SCRATCH).check()

    theirs, ours = parity.compare(pytester, monkeypatch, config, reset)
    parity.assert_same(theirs, ours)
