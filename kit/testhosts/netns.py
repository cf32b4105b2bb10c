"""A network namespace per container, joined to this machine by a veth pair.

Names start with "hk": namespace hkN, host-side link hkNv, subnet 10.77.N.0/30
(this machine .1, the container .2).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from kit.testhosts import tools

_MAX_INDEX = 250


@dataclass(frozen=True)
class Net:
    index: int

    @property
    def namespace(self) -> str:
        return f"hk{self.index}"

    @property
    def link(self) -> str:
        return f"hk{self.index}v"

    @property
    def host_address(self) -> str:
        return f"10.77.{self.index}.1"

    @property
    def guest_address(self) -> str:
        return f"10.77.{self.index}.2"

    @property
    def path(self) -> str:
        return f"/run/netns/{self.namespace}"


def namespaces() -> set[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False)
    return {line.split()[0] for line in out.stdout.splitlines() if line.strip()}


def links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False)
    names = set()
    for line in out.stdout.splitlines():
        parts = line.split(":", 2)
        if len(parts) > 1:
            names.add(parts[1].strip().split("@")[0])
    return names


def free(count: int) -> list[Net]:
    """The lowest indices whose namespace and link names are both unused."""
    if count <= 0:
        return []
    taken_ns, taken_links = namespaces(), links()
    found: list[Net] = []
    for index in range(1, _MAX_INDEX + 1):
        net = Net(index)
        if net.namespace not in taken_ns and net.link not in taken_links:
            found.append(net)
            if len(found) == count:
                return found
    raise tools.StepFailed("choosing network namespaces", 1, "all hk1..hk250 are in use")


def create(net: Net) -> None:
    ns, link = net.namespace, net.link
    steps = [
        ["ip", "netns", "add", ns],
        ["ip", "link", "add", link, "type", "veth", "peer", "name", "eth0", "netns", ns],
        ["ip", "addr", "add", f"{net.host_address}/30", "dev", link],
        ["ip", "link", "set", link, "up"],
        ["ip", "-n", ns, "addr", "add", f"{net.guest_address}/30", "dev", "eth0"],
        ["ip", "-n", ns, "link", "set", "eth0", "up"],
        ["ip", "-n", ns, "link", "set", "lo", "up"],
    ]
    for step in steps:
        tools.run(step, " ".join(step))


def delete(net: Net) -> list[str]:
    """Remove the link and the namespace if they exist; return what was removed."""
    removed = []
    if net.link in links():
        tools.run(["ip", "link", "del", net.link], f"ip link del {net.link}", check=False)
        removed.append(f"link {net.link}")
    if net.namespace in namespaces():
        tools.run(["ip", "netns", "del", net.namespace], f"ip netns del {net.namespace}")
        removed.append(f"netns {net.namespace}")
    return removed
