"""Properties of the facts parser: no input crashes it, and encodings round-trip."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from kit.facts import parse_facts
from kit.facts.parse import (
    MARKER,
    parse_proc_net,
    parse_sysctls,
    sysctl_key,
)

section_names = st.sampled_from(
    [
        "os-release",
        "meminfo",
        "cpu",
        "init",
        "executables",
        "addrs",
        "route4",
        "net-tcp",
        "nft",
        "iptables",
        "swaps",
        "modules",
        "timezone",
        "timesync",
        "mounts",
        "sysctls",
    ]
)


@given(st.lists(st.tuples(section_names, st.text())))
def test_any_answer_parses_without_raising(parts):
    raw = "".join(f"\n{MARKER}{name}\n{body}" for name, body in parts)
    facts = parse_facts(raw)
    assert facts.package_manager.type in {"apt", "dnf", "yum", "unknown"}
    assert facts.firewall in {"firewalld", "ufw", "nftables", "iptables", "none", "unknown"}


component = st.from_regex(r"[a-z0-9_]{1,8}(\.[0-9]{1,3})?", fullmatch=True)


@given(st.lists(component, min_size=1, max_size=5), st.text(alphabet=" \t0123456789ab"))
def test_sysctl_paths_map_to_keys_and_whitespace_normalises(parts, value):
    path = "/proc/sys/" + "/".join(parts)
    key = sysctl_key(path)
    # Dots inside a component (a VLAN interface) become slashes, as sysctl(8) writes them.
    assert key.split(".") == [p.replace(".", "/") for p in parts]
    parsed = parse_sysctls(f"{path}:{value}\n")
    assert parsed.get(key, "") == " ".join(value.split())


def _proc_hex(address: str) -> str:
    packed = ipaddress.ip_address(address).packed
    return "".join(packed[i : i + 4][::-1].hex().upper() for i in range(0, len(packed), 4))


@given(st.ip_addresses(), st.integers(0, 65535))
def test_listening_addresses_decode_back(address, port):
    line = (
        f"   0: {_proc_hex(str(address))}:{port:04X} {'0' * len(_proc_hex(str(address)))}:0000 0A"
    )
    sockets = parse_proc_net("header\n" + line, "tcp")
    assert [(s.address, s.port) for s in sockets] == [(str(address), port)]
