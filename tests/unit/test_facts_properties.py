"""Properties of the facts parser: no input crashes it, and encodings round-trip."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from hypothesis import example, given
from hypothesis import strategies as st

from kit.errors import KitError
from kit.facts import Facts, parse_facts
from kit.facts.parse import (
    MARKER,
    parse_proc_net,
    parse_sysctls,
    split_sections,
    sysctl_key,
)

DATA = Path(__file__).parent / "data" / "facts"
RECORDED = {p.stem: p.read_text() for p in sorted(DATA.glob("*.txt"))}

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


# What a damaged or hostile answer puts where a value was: words the parser keys on,
# numbers that are not ASCII digits, half addresses.
_noise = st.one_of(
    st.text(max_size=6),
    st.sampled_from(
        [
            "garbage",
            "²",
            "\u0663",
            "-1",
            "rc=",
            "rc=x",
            "rc=²",
            "default",
            "dev",
            "src",
            "inet",
            "inet6",
            "/",
            ":",
            "%",
            "::",
            "fe80::1%eth0",
            "999999999999999999999",
            "FFFFFFFF:FFFFFF",
            "0A",
            "07",
            "\\",
            "'",
            '"',
            "=",
            "@@file:",
            "\t",
        ]
    ),
)


@st.composite
def _mutated_answer(draw: st.DrawFn) -> str:
    sections = split_sections(draw(st.sampled_from(sorted(RECORDED.values()))))
    names = sorted(sections)
    for _ in range(draw(st.integers(1, 6))):
        name = draw(st.sampled_from(names))
        lines = sections[name].split("\n")
        row = draw(st.integers(0, len(lines) - 1))
        words = lines[row].split(" ")
        col = draw(st.integers(0, len(words) - 1))
        action = draw(st.sampled_from(["replace", "insert", "drop-line", "add-line", "cut"]))
        if action == "replace":
            words[col] = draw(_noise)
        elif action == "insert":
            words.insert(col, draw(_noise))
        elif action == "cut":
            words[col] = words[col][: draw(st.integers(0, len(words[col])))]
        lines[row] = " ".join(words)
        if action == "drop-line":
            del lines[row]
        elif action == "add-line":
            lines.insert(row, " ".join(draw(st.lists(_noise, max_size=5))))
        sections[name] = "\n".join(lines)
    return "".join(f"\n{MARKER}{name}\n{body}" for name, body in sections.items())


def _with(name: str, old: str, new: str) -> str:
    text = RECORDED[name]
    assert old in text
    return text.replace(old, new)


def _is_ip(text: str | None, version: int) -> bool:
    try:
        return ipaddress.ip_address(text or "").version == version
    except ValueError:
        return False


@given(_mutated_answer())
@example(_with("centos7", "inet 172.16.0.7/16", "inet garbage/24"))
@example(_with("centos7", "@@hostkit:cpu\n1", "@@hostkit:cpu\n²"))
@example(_with("ubuntu2204", "}\nrc=0", "}\nrc=x"))
@example(_with("ubuntu2204", "src 10.0.2.15", "src garbage"))
@example(_with("centos7", "172.16.0.1 dev eth0", "172.16.0.1 dev eth0 src 1.2.3.4/33"))
def test_damaged_recorded_answers_parse_to_facts(raw: str) -> None:
    try:
        facts = parse_facts(raw)
    except KitError:
        return
    assert isinstance(facts, Facts)
    assert facts.cpu_count is None or facts.cpu_count >= 0
    assert facts.memory_mib is None or facts.memory_mib >= 0
    assert facts.ipv4_default is None or _is_ip(facts.ipv4_default, 4)
    assert facts.ipv6_default is None or _is_ip(facts.ipv6_default, 6)
    for iface in facts.interfaces:
        assert all(_is_ip(a, 4) for a in iface.ipv4), iface
        assert all(_is_ip(a, 6) for a in iface.ipv6), iface
    for sock in facts.listening:
        assert 0 <= sock.port <= 65535
    assert facts.firewall in {"firewalld", "ufw", "nftables", "iptables", "none", "unknown"}
