"""The catalog on Debian 11, 12 and 13: each release's image is what it says, and the
kubernetes-node profile's fail, fix, pass cycle holds on a container of each.

The releases differ where the catalog cares: 13 ships no /etc/sysctl.conf and a systemd
without cgroup v1; 11 an older systemd. Containers share this machine's kernel, so the
kernel's part (modules, sysctls, swap) is proven on the Debian 13 VM
(test_catalog_fix.py, test_hardened_vm.py).
"""

from __future__ import annotations

import pytest

from tests.hosts import compliance
from tests.hosts.verdicts import assert_settled

pytestmark = pytest.mark.hosts

PROFILE = ("--profile", "kubernetes-node")
# --strict: the host name, firewalld and ufw checks are warning checks, whose fixes run
# only when asked.
FIX = ("--fix", "--strict", *PROFILE)
# Not cgroup: the containers get cgroup v1 mounts from this machine's nspawn whatever
# the release (tests/hosts/test_kernelprep.py); the VM proves the cgroup verdicts.
SELECT = "executable or hostname or firewalld or ufw or resolv"
SYSTEMD_CGROUP_V1_DROPPED = 256  # systemd 256 (Debian 13's 257) boots no cgroup v1


@pytest.mark.parametrize("release", [11, 12, 13])
def test_kubernetes_node_fails_fixes_and_settles_on_each_release(container_of, tmp_path, release):
    host = container_of(release)
    with host.connect() as conn:
        assert conn.run(". /etc/os-release && echo $VERSION_ID").stdout.strip() == str(release)
        systemd = int(conn.run("systemctl --version").check().stdout.split()[1])
        assert (systemd >= SYSTEMD_CGROUP_V1_DROPPED) == (release == 13), systemd
        assert conn.run("test -e /etc/sysctl.conf").ok == (release != 13)
        conn.run(
            "apt-get remove -y -qq socat ethtool ebtables >/dev/null 2>&1;"
            " sed -i '/^127.0.1.1/d' /etc/hosts;"
            " ip -4 route show default | grep -q . || ip route add default dev eth0"
        ).check()
    before = compliance.run(host, tmp_path, "before", *PROFILE, select=SELECT)
    failing = before.failing()
    assert any(n.startswith("test_executable_recommended") for n in failing), before.cases
    assert any(n.startswith("test_hostname") for n in failing), before.cases
    fixed = compliance.run(host, tmp_path, "fix", *FIX, select=SELECT)
    for name in failing:
        assert fixed.cases[name].outcome == "fixed", (name, fixed.cases[name])
    again = compliance.run(host, tmp_path, "again", *FIX, select=SELECT)
    assert again.failing() == set(), {n: again.cases[n].message for n in again.failing()}
    assert_settled(again)
    with host.connect() as conn:  # independent reads
        assert conn.run("command -v socat && command -v ebtables && command -v ethtool").ok
