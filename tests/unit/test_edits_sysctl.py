import pytest

from kit.edits import sysctl
from kit.errors import KitValueError


def test_parse_handles_comments_slashes_ignore_prefix_and_tabs():
    text = (
        "# comment\n"
        "; other comment\n"
        "net/ipv4/ip_forward=1\n"
        "-net.ipv6.conf.all.forwarding = 0\n"
        "net.ipv4.ip_local_port_range =\t32768\t60999 \n"
        "net.ipv4.ip_forward = 0\n"
    )
    got = sysctl.parse(text)
    assert got == {
        "net.ipv4.ip_forward": "0",
        "net.ipv6.conf.all.forwarding": "0",
        "net.ipv4.ip_local_port_range": "32768 60999",
    }


def test_slash_keys_swap_dots_as_sysctl_d_says():
    assert sysctl.normalise_key("net/ipv4/conf/eth0.100/rp_filter") == (
        "net.ipv4.conf.eth0/100.rp_filter"
    )
    assert sysctl.normalise_key("net.ipv4.conf.eth0/100.rp_filter") == (
        "net.ipv4.conf.eth0/100.rp_filter"
    )


def test_set_key_replaces_in_place_rather_than_appending():
    text = "# managed\nvm.swappiness = 60\nkernel.pid_max = 4194304\nvm.swappiness=10\n"
    out = sysctl.set_key(text, "vm.swappiness", "0")
    assert out == "# managed\nvm.swappiness = 0\nkernel.pid_max = 4194304\n"


def test_set_key_treats_zero_as_a_value_and_whitespace_as_equal():
    text = "vm.swappiness = 0\nnet.ipv4.ip_local_port_range = 1024\t65000\n"
    assert sysctl.set_key(text, "vm.swappiness", "0") == text
    assert sysctl.set_key(text, "net.ipv4.ip_local_port_range", "1024 65000") == text
    assert sysctl.same_value("1024\t 65000", " 1024 65000")


def test_set_key_appends_a_missing_key_after_a_text_without_final_newline():
    assert sysctl.set_key("a.b = 1", "c.d", "2") == "a.b = 1\nc.d = 2\n"


@pytest.mark.parametrize(("key", "value"), [("a b", "1"), ("-a", "1"), ("a.b", "1\n2")])
def test_set_key_rejects_what_would_not_parse_back(key, value):
    with pytest.raises(KitValueError):
        sysctl.set_key("", key, value)
