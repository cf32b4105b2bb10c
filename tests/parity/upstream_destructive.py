# ruff: noqa
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

from ipaddress import IPv4Address, ip_address

import pytest

# Adapted from pytest-testinfra 10.2.2, test/test_modules.py
# (https://github.com/pytest-dev/pytest-testinfra, Apache License 2.0, see the header above).
# hostkit: the tests that change the host or reach the network, run only against a
# disposable container (never this machine). Changes are marked "hostkit:".


def test_service_systemd_mask(host):
    ssh = host.service("ssh")
    assert not ssh.is_masked
    host.run("systemctl mask ssh")
    assert ssh.is_masked
    host.run("systemctl unmask ssh")
    assert not ssh.is_masked


# hostkit: upstream's image loads its rules with netfilter-persistent at boot; here the test
# puts the same two rules in place itself (the reset between runs flushes them).
def test_iptables(host):
    host.check_output(
        "iptables -A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT"
        " && iptables -t nat -A PREROUTING -d 192.168.0.1/32 -j REDIRECT"
    )
    ssh_rule_str = "-A INPUT -p tcp -m state --state NEW -m tcp --dport 22 -j ACCEPT"
    vip_redirect_rule_str = "-A PREROUTING -d 192.168.0.1/32 -j REDIRECT"
    rules = host.iptables.rules()
    input_rules = host.iptables.rules("filter", "INPUT")
    nat_rules = host.iptables.rules("nat")
    nat_prerouting_rules = host.iptables.rules("nat", "PREROUTING")
    assert ssh_rule_str in rules
    assert ssh_rule_str in input_rules
    assert vip_redirect_rule_str in nat_rules
    assert vip_redirect_rule_str in nat_prerouting_rules
    assert host.iptables._has_w_argument is True


def test_ip6tables(host):
    # test ip6tables call works; ipv6 setup is a whole huge thing, but
    # ensure we at least see the headings
    try:
        v6_rules = host.iptables.rules(version=6)
    except AssertionError as exc_info:
        if "Perhaps ip6tables or your kernel needs to be upgraded" in exc_info.args[0]:
            pytest.skip(f"IPV6 does not seem to be enabled on the docker host\n{exc_info}")
        else:
            raise
    else:
        assert "-P INPUT ACCEPT" in v6_rules
        assert "-P FORWARD ACCEPT" in v6_rules
        assert "-P OUTPUT ACCEPT" in v6_rules
        v6_filter_rules = host.iptables.rules("filter", "INPUT", version=6)
        assert "-P INPUT ACCEPT" in v6_filter_rules


# hostkit: no Internet here. The unreachable address is a blackhole route the test adds on
# the container (so nothing leaves it), and the reachable one is the container's own sshd
# instead of 8.8.8.8:53 and google.com:443.
def test_addr(host):
    host.check_output("ip route replace blackhole 10.42.13.73/32")
    non_resolvable = host.addr("some_non_resolvable_host")
    assert not non_resolvable.is_resolvable
    assert not non_resolvable.is_reachable
    assert not non_resolvable.port(80).is_reachable

    non_reachable_ip = host.addr("10.42.13.73")
    assert non_reachable_ip.is_resolvable
    assert non_reachable_ip.ipv4_addresses == ["10.42.13.73"]
    assert not non_reachable_ip.is_reachable
    assert not non_reachable_ip.port(80).is_reachable

    local = host.addr("127.0.0.1")
    assert local.is_resolvable
    assert local.ipv4_addresses == ["127.0.0.1"]
    assert local.port(22).is_reachable
    assert not local.port(666).is_reachable

    named = host.addr("localhost")
    assert named.is_resolvable
    assert named.port(22).is_reachable
    for ip in named.ipv4_addresses:
        assert isinstance(ip_address(ip), IPv4Address)
