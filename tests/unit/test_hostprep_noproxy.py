"""NO_PROXY matching against Go's own table: golang.org/x/net/http/httpproxy proxy_test.go,
UseProxyTests over its noProxy string (TestUseProxy, TestAllNoProxy, TestInvalidNoProxy),
and FromEnvironment's upper-before-lower reading."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.edits.noproxy import NoProxy, ProxyEnv, parse_systemd_environment

GO_NO_PROXY = (
    "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, "
    "10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, "
    "2002:db8:a::45/64"
)
# (host, whether Go's useProxy says to use the proxy), requests on port 80.
USE_PROXY = [
    ("localhost", False),
    ("127.0.0.1", False),
    ("127.0.0.2", False),
    ("[::1]", False),
    ("[::2]", True),
    ("192.168.1.1", False),
    ("192.168.1.2", True),
    ("192.168.1.3", False),
    ("192.168.1.4", True),
    ("10.0.0.2", False),
    ("[2001:db8::52:0:1]", False),
    ("[2001:db8::52:0:2]", True),
    ("[2001:db8::52:0:3]", False),
    ("[2002:db8:a::123]", False),
    ("[fe80::424b:c8be:1643:a1b6]", True),
    ("barbaz.net", True),
    ("www.barbaz.net", False),
    ("foobar.com", False),
    ("www.foobar.com", False),
    ("foofoobar.com", True),
    ("baz.com", True),
    ("localhost.net", True),
    ("local.localhost", True),
    ("barbarbaz.net", True),
    ("wildcard.io", True),
    ("nested.wildcard.io", False),
    ("awildcard.io", True),
]


@pytest.mark.parametrize("host,use_proxy", USE_PROXY)
def test_go_use_proxy_table(host, use_proxy):
    assert NoProxy.parse(GO_NO_PROXY).direct(host.strip("[]"), "80") is not use_proxy


@pytest.mark.parametrize("host", [h for h, _ in USE_PROXY])
def test_star_sends_everything_direct(host):
    assert NoProxy.parse("*").direct(host.strip("[]"), "80")


def test_a_malformed_entry_is_ignored():
    assert not NoProxy.parse(":1").direct("example.com", "80")


def test_upper_case_first_and_empty_means_unset():
    env = {"NO_PROXY": "", "no_proxy": "a", "HTTPS_PROXY": "h", "https_proxy": "l"}
    assert ProxyEnv.of(env) == ProxyEnv("", "h", "a")
    assert not ProxyEnv.of({"no_proxy": "x"}).proxied


def test_without_gos_loopback_rule_localhost_needs_an_entry():
    assert not NoProxy.parse("").covers("localhost", implicit_loopback=False)
    assert not NoProxy.parse("").covers("127.0.0.0/8", implicit_loopback=False)
    assert NoProxy.parse("localhost,127.0.0.0/8").covers("127.0.0.1", implicit_loopback=False)


def test_a_port_bound_entry_covers_only_its_port():
    no_proxy = NoProxy.parse("10.1.2.3:6443,cp.example:6443")
    assert no_proxy.covers("10.1.2.3:6443") and no_proxy.covers("cp.example:6443")
    assert not no_proxy.covers("10.1.2.3") and not no_proxy.covers("cp.example")


def test_a_range_needs_the_whole_range():
    assert NoProxy.parse("10.96.0.0/12").covers("10.96.0.0/12")
    assert NoProxy.parse("10.0.0.0/8").covers("10.96.0.0/12")
    assert not NoProxy.parse("10.96.0.0/16").covers("10.96.0.0/12")
    # One address of the range is what kubeadm's HTTPProxyCIDRCheck probes; not enough.
    assert not NoProxy.parse("10.96.0.1").covers("10.96.0.0/12")
    assert NoProxy.parse("fd00::/8").covers("fd00:10:96::/112")


def test_systemd_environment_words_and_reset():
    values = ['"HTTP_PROXY=http://p:3128" NO_PROXY=a,b', "", "HTTPS_PROXY=x"]
    assert parse_systemd_environment(values) == {"HTTPS_PROXY": "x"}
    assert parse_systemd_environment(values[:1]) == {
        "HTTP_PROXY": "http://p:3128",
        "NO_PROXY": "a,b",
    }


@given(
    st.ip_addresses(v=4).map(int),
    st.integers(min_value=8, max_value=30),
    st.integers(min_value=0, max_value=4),
)
def test_a_covered_range_sends_each_of_its_addresses_direct(base, prefix, extra):
    network = ipaddress.ip_network((base, prefix), strict=False)
    wider = network.supernet(prefixlen_diff=min(extra, prefix))
    no_proxy = NoProxy.parse(f"example.org,{wider}")
    assert no_proxy.covers(str(network))
    for address in (network.network_address, network.broadcast_address):
        assert no_proxy.direct(str(address), "443")
    if not network.is_loopback:
        assert not NoProxy.parse("example.org").covers(str(network))
