"""testinfra's own module tests give the same verdicts through hostkit as through paramiko,
against a disposable Debian 12 container (tests/parity says how)."""

from __future__ import annotations

import pytest

from tests import parity

pytestmark = pytest.mark.hosts

DESTRUCTIVE = ("test_service_systemd_mask", "test_iptables", "test_ip6tables", "test_addr")


def test_upstream_module_tests_same_verdicts_on_a_container(containers, pytester, monkeypatch):
    host = containers[-1]
    opts = host.connect_options
    config = parity.ssh_config(host.address, host.port, opts["identity_file"], opts["known_hosts"])

    def reset() -> None:
        with host.connect() as conn:
            conn.run(
                "rm -rf %s; systemctl unmask ssh; ip route del blackhole 10.42.13.73/32;"
                " iptables -F INPUT; iptables -t nat -F PREROUTING; true",
                parity.SCRATCH,
            ).check()

    with host.connect() as conn:
        # Upstream's image has ping, which host.addr's reachability uses.
        conn.run(
            "command -v ping >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive"
            " apt-get install -y -qq --no-install-recommends iputils-ping >/dev/null; }"
        ).check()
    theirs, ours = parity.compare(pytester, monkeypatch, config, reset, disposable=True)
    destructive = {n: v for n, v in theirs.items() if n.startswith(DESTRUCTIVE)}
    # Upstream's tests that change the host ran here, and pass on this Debian 12 target.
    assert len(destructive) == 4 and set(destructive.values()) == {"passed"}, destructive
    parity.assert_same(theirs, ours, at_least=29)
