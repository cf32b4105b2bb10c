"""Host preparation scenarios on disposable containers: ufw, NetworkManager, NO_PROXY and
resolv.conf made real, failing, fixed (where a fix exists) and settled.

SELinux cannot exist on these Debian containers (no policy, no /sys/fs/selinux): its
check and fix are proved over recorded Rocky answers in tests/unit/test_hostprep.py.
"""

from __future__ import annotations

import pytest

from tests.hosts import compliance
from tests.hosts.test_catalog_scenarios import fail_fix_settle

pytestmark = pytest.mark.hosts


def case(run, test: str, param: str = ""):
    """The one case of test (with that parameter, whatever the host part of its id)."""
    found = [
        c
        for name, c in run.cases.items()
        if name.startswith(test) and (not param or name.endswith(f"-{param}]"))
    ]
    assert len(found) == 1, (test, param, sorted(run.cases))
    return found[0]


APT = "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends"


def _reset_ufw(conn) -> None:
    # ufw disabled leaves its chains and the built-in chains' jumps to them: the later
    # modules sharing the container expect no firewall at all, so its rules go with it.
    conn.run(
        "command -v ufw >/dev/null && ufw --force reset >/dev/null 2>&1;"
        " apt-get purge -y -qq ufw >/dev/null 2>&1;"
        " for t in iptables ip6tables; do command -v $t >/dev/null || continue;"
        " $t -P INPUT ACCEPT; $t -P FORWARD ACCEPT; $t -P OUTPUT ACCEPT; $t -F; $t -X; done;"
        " true"
    )


def test_active_ufw_is_disabled_through_the_firewall_guard(containers, tmp_path):
    host = containers[0]
    with host.connect() as conn:
        conn.run(f"apt-get update -qq && {APT} ufw >/dev/null").check()
        # The rule that keeps this connection alive while ufw is on.
        conn.run("ufw allow 22/tcp >/dev/null && ufw --force enable").check()
    try:
        fail_fix_settle(
            host,
            tmp_path,
            "ufw",
            {"test_ufw_inactive": "ufw is active"},
            "--max-disruption=high",
            "--strict",  # ufw's check is a warning check: its fix runs only when asked
        )
        with host.connect() as conn:  # independent reads
            assert "Status: inactive" in conn.run("ufw status").check().stdout
            conf = conn.run("cat /etc/ufw/ufw.conf").check().stdout
            assert "ENABLED=no" in conf.splitlines()
            # ufw's rules went with it (it leaves its chains behind, empty), and the
            # input policy accepts again.
            rules = conn.run("iptables -S").check().stdout.splitlines()
            assert "-P INPUT ACCEPT" in rules, rules
            assert not [r for r in rules if r.startswith("-A ufw")], rules
    finally:
        with host.connect() as conn:
            _reset_ufw(conn)


def test_ufw_off_but_enabled_at_boot_gets_enabled_no(containers, tmp_path):
    host = containers[0]
    with host.connect() as conn:
        conn.run(f"apt-get update -qq && {APT} ufw >/dev/null").check()
        conn.run(
            "ufw --force disable >/dev/null; sed -i 's/^ENABLED=.*/ENABLED=yes/' /etc/ufw/ufw.conf"
        ).check()
    try:
        fail_fix_settle(
            host,
            tmp_path,
            "ufw",
            {"test_ufw_inactive": "ENABLED=yes in /etc/ufw/ufw.conf"},
            "--max-disruption=high",
            "--strict",
        )
        with host.connect() as conn:
            assert "Status: inactive" in conn.run("ufw status").check().stdout
            assert "ENABLED=no" in conn.run("cat /etc/ufw/ufw.conf").check().stdout.splitlines()
    finally:
        with host.connect() as conn:
            _reset_ufw(conn)


# Keeps NetworkManager off the container's own link while the scenario installs it.
NM_KEEP_OFF = (
    "[main]\nno-auto-default=*\n"
    "[keyfile]\nunmanaged-devices+=interface-name:eth*;interface-name:host*\n"
)


def test_networkmanager_gets_kubesprays_unmanaged_devices(containers, tmp_path):
    host = containers[0]
    with host.connect() as conn:
        conn.run(
            "mkdir -p /etc/NetworkManager/conf.d && printf %s > "
            "/etc/NetworkManager/conf.d/00-hostkit-test.conf",
            NM_KEEP_OFF,
        ).check()
        conn.run(f"apt-get update -qq && {APT} network-manager >/dev/null").check()
    try:
        fail_fix_settle(
            host,
            tmp_path,
            "networkmanager",
            {"test_networkmanager_unmanaged": "unmanaged-devices lacks interface-name:cali*"},
            "--strict",  # a warning check
        )
        with host.connect() as conn:  # independent reads
            calico = conn.run("cat /etc/NetworkManager/conf.d/calico.conf").check().stdout
            assert calico.startswith("[keyfile]\nunmanaged-devices+=interface-name:cali*;")
            # NetworkManager's own merge of its configuration agrees.
            merged = conn.run("NetworkManager --print-config").check().stdout
            line = next(ln for ln in merged.splitlines() if ln.startswith("unmanaged-devices="))
            for spec in (
                "interface-name:cali*",
                "interface-name:kube-ipvs0",
                "interface-name:cni*",
            ):
                assert spec in line, line
            assert "interface-name:eth*" in line, line
    finally:
        with host.connect() as conn:
            conn.run(
                "systemctl stop NetworkManager; rm -f /etc/NetworkManager/conf.d/calico.conf "
                "/etc/NetworkManager/conf.d/k8s.conf /etc/NetworkManager/conf.d/cni.conf"
            )


KUBELET_UNIT = "[Service]\nExecStart=/bin/sleep infinity\n"
KUBELET_PROXY = (
    "[Service]\n"
    'Environment="HTTPS_PROXY=http://proxy.example:3128" "NO_PROXY=localhost,10.244.0.0/16"\n'
)


def test_no_proxy_missing_the_service_range_is_reported_and_left_alone(containers, tmp_path):
    """Check only: --fix must leave the proxy settings as they are."""
    host = containers[0]
    with host.connect() as conn:
        conn.run(
            "mkdir -p /etc/systemd/system/kubelet.service.d"
            " && printf %s > /etc/systemd/system/kubelet.service"
            " && printf %s > /etc/systemd/system/kubelet.service.d/http-proxy.conf"
            " && systemctl daemon-reload",
            KUBELET_UNIT,
            KUBELET_PROXY,
        ).check()
    try:
        run = compliance.run(host, tmp_path, "proxy", "--fix", select="no_proxy")
        service = case(run, "test_no_proxy[", "10.96.0.0/12")
        assert service.outcome == "warning", run.cases
        assert "kubelet.service sends 10.96.0.0/12 through the proxy" in service.message
        assert case(run, "test_no_proxy[", "10.244.0.0/16").outcome == "passed"
        # Go sends loopback direct without a NO_PROXY entry.
        assert case(run, "test_no_proxy[", "127.0.0.1").outcome == "passed"
        with host.connect() as conn:
            drop_in = "/etc/systemd/system/kubelet.service.d/http-proxy.conf"
            assert conn.run("cat %s", drop_in).check().stdout == KUBELET_PROXY
            conn.run(
                "sed -i 's#10.244.0.0/16#&,10.96.0.0/12#' %s && systemctl daemon-reload",
                drop_in,
            ).check()
        again = compliance.run(host, tmp_path, "proxy-again", select="no_proxy")
        assert case(again, "test_no_proxy[", "10.96.0.0/12").outcome == "passed", again.cases
    finally:
        with host.connect() as conn:
            conn.run(
                "rm -rf /etc/systemd/system/kubelet.service /etc/systemd/system/kubelet.service.d"
                " && systemctl daemon-reload"
            )


def test_resolv_conf_that_is_only_a_loopback_stub_fails(containers, tmp_path):
    """Check only: kubelet's resolvConf belongs to kubeadm or the operator."""
    host = containers[0]
    with host.connect() as conn:
        saved = conn.run("cat /etc/resolv.conf").stdout
        conn.run(
            "rm -f /etc/resolv.conf && printf 'nameserver 127.0.0.53\\noptions edns0\\n' "
            "> /etc/resolv.conf"
        ).check()
    try:
        run = compliance.run(host, tmp_path, "stub", "--fix", select="resolv")
        stub = case(run, "test_resolv_conf[")
        assert stub.outcome == "failed", run.cases
        assert "only nameservers are loopback (127.0.0.53)" in stub.message
        assert not stub.fixes
        with host.connect() as conn:
            conn.run(
                "printf 'nameserver 192.0.2.1\\nnameserver 192.0.2.2\\n"
                "nameserver 192.0.2.3\\nnameserver 192.0.2.4\\n' > /etc/resolv.conf"
            ).check()
        four = compliance.run(host, tmp_path, "four", select="resolv")
        assert case(four, "test_resolv_conf[").outcome == "passed"
        count = case(four, "test_resolv_conf_nameservers")
        assert count.outcome == "warning" and "lists 4 nameservers" in count.message
    finally:
        with host.connect() as conn:
            conn.run("cat > /etc/resolv.conf", stdin=saved)
