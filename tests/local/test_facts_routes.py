"""The default routes from one ip in batch mode (kit/facts/gather.sh), against the earlier
script's `ip -6 route show default`, in network namespaces of their own: routes of both
families, multipath, a default route in another table, and a namespace with no address."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from kit.facts import parse_facts
from kit.facts.gather import script
from kit.facts.parse import split_sections
from tests.facts_compare import OLD_SCRIPT

# The addresses' section differs between two namespaces (their link-local addresses).
SECTIONS = ("route4", "route6")

ROUTES = """
ip link set lo up
ip link add d0 type veth peer name p0 && ip link set d0 up && ip link set p0 up
ip link add d1 type veth peer name p1 && ip link set d1 up && ip link set p1 up
ip addr add 192.0.2.2/24 dev d0 && ip addr add 198.51.100.2/24 dev d1
ip -6 addr add fd00::2/64 dev d0 nodad && ip -6 addr add fd01::2/64 dev d1 nodad
ip route add default via 192.0.2.1 dev d0 src 192.0.2.2
ip route add default via 198.51.100.1 dev d1 table 100
ip -6 route add default nexthop via fd00::1 dev d0 nexthop via fd01::1 dev d1
ip -6 route add default via fd01::1 dev d1 table 100
"""


def answer(setup: str, text: str) -> str:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("a network namespace of its own needs root and unshare")
    done = subprocess.run(
        ["unshare", "--net", "sh", "-c", f'{setup}\nexec sh -c "$0" hostkit-facts', text],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def sections(text: str) -> dict[str, str]:
    return {k: v for k, v in split_sections(text).items() if k in SECTIONS}


@pytest.mark.parametrize("setup", [ROUTES, "ip link set lo up", ":"], ids=["routes", "lo", "none"])
def test_default_routes_are_what_the_earlier_script_said(setup: str):
    old, new = answer(setup, OLD_SCRIPT.read_text()), answer(setup, script())
    assert sections(new) == sections(old)
    facts = [parse_facts(text) for text in (old, new)]
    assert facts[1].ipv4_default == facts[0].ipv4_default
    assert facts[1].ipv6_default == facts[0].ipv6_default


def test_the_namespace_has_the_routes_the_test_compares():
    found = sections(answer(ROUTES, script()))
    assert "nexthop via fd00::1" in found["route6"]
    assert "table" not in found["route4"] + found["route6"]
    assert found["route4"].startswith("default via 192.0.2.1")
    assert parse_facts(answer(ROUTES, script())).ipv4_default == "192.0.2.2"
