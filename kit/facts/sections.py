"""Which sections of the facts script each Facts field comes from, and the script cut to
some of them.

A re-check after a fix reads a few fields: it gathers their sections only, not the whole
answer. gather.sh marks its parts with one-line comments: `#@section NAME... [needs
PART...]` starts a part printing those sections, `#@state NAME [needs PART...]` one that
only sets shell state later parts read (a systemctl or readlink answer computed once).
What comes before the first marker (the shared functions) always runs.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType

from kit.errors import KitValueError

_NET = frozenset({"net-tcp", "net-tcp6", "net-udp", "net-udp6"})
_SYSCTLS = frozenset({"sysctls"})

# Field -> the sections its parser reads (kit.facts.parse.parse_facts). Checked against
# the parser on recorded and live answers (tests/unit/test_facts_sections.py,
# tests/local/test_facts_sections.py).
FIELDS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "os": frozenset({"os-release"}),
        "hostname": _SYSCTLS,
        "kernel": _SYSCTLS,
        "memory_mib": frozenset({"meminfo"}),
        "cpu_count": frozenset({"cpu"}),
        "ipv4_default": frozenset({"route4", "links", "addrs"}),
        "ipv6_default": frozenset({"route6", "links", "addrs"}),
        "package_manager": frozenset({"executables"}),
        "init_system": frozenset({"init", "executables"}),
        "selinux": frozenset({"selinux"}),
        "apparmor": frozenset({"apparmor"}),
        "firewall": frozenset({"procs", "ufw", "nft", "iptables", "executables"}),
        "interfaces": frozenset({"links", "addrs"}),
        "swaps": frozenset({"swaps"}),
        "modules": frozenset({"modules"}),
        "modules_builtin": frozenset({"modules-builtin"}),
        "cgroup_version": frozenset({"cgroup"}),
        "listening": _NET,
        "boot_id": _SYSCTLS,
        "timezone": frozenset({"timezone"}),
        "time_sync": frozenset({"timesync", "procs"}),
        "sysctls": _SYSCTLS,
        "mounts": frozenset({"mounts"}),
        "executables": frozenset({"executables"}),
        "hostname_addresses": frozenset({"hostname-addresses"}),
        "boot_files": frozenset({"boot-files"}),
        "boot_links": frozenset({"boot-files"}),
        "unit_states": frozenset({"units"}),
        "swap_units": frozenset({"swap-units"}),
        "zram_generator": frozenset({"swap-units"}),
        "files": frozenset({"files"}),
        "packages": frozenset({"packages"}),
        # Its empty sysctls come from the one pass over /proc/sys.
        "kernelprep": frozenset(
            {"kernelprep-config", "kernelprep-df", "kernelprep-cgroup", "sysctls"}
        ),
        "hostprep": frozenset(
            {
                "hostprep-ufw",
                "hostprep-selinux-config",
                "hostprep-nm",
                "hostprep-proxy",
                "hostprep-resolv",
            }
        ),
        "runtime": frozenset(
            {
                "runtime-containerd-path",
                "runtime-config",
                "runtime-config-default",
                "runtime-cri",
                "runtime-units",
                "runtime-kubelet-version",
            }
        ),
        "ports": frozenset({"ports"}),
        "kubelet_files": frozenset({"kubelet-files"}),
        "modules_boot": frozenset({"modules-boot", "kernelprep-config"}),
    }
)

# Every section a `#@section` marker of gather.sh names ("end" closes every answer).
ALL: frozenset[str] = frozenset().union(*FIELDS.values())
END = "end"


def sections_of(fields: Iterable[str]) -> frozenset[str]:
    """The sections the named fields come from; all of them for a name the table does
    not know (the safe answer: a field nobody placed is gathered with everything)."""
    found: set[str] = set()
    for name in fields:
        found |= FIELDS.get(name, ALL)
    return frozenset(found)


def fields_of(gathered: Collection[str]) -> frozenset[str]:
    """The fields an answer holding these sections gives in full."""
    return frozenset(name for name, wanted in FIELDS.items() if wanted <= gathered)


@dataclass(frozen=True)
class Part:
    """A stretch of the script from one marker to the next."""

    names: tuple[str, ...]
    needs: tuple[str, ...]
    text: str
    prints: bool  # a #@section part (else #@state)


_MARKER = re.compile(r"^#@(section|state) (.*)$")
_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


@lru_cache(maxsize=4)
def parts(text: str) -> tuple[str, tuple[Part, ...]]:
    """(the prelude, the marked parts in order) of a facts script."""
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if _MARKER.match(line)]
    if not starts:
        raise KitValueError("the facts script has no #@section markers")
    found = []
    for at, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        match = _MARKER.match(lines[at])
        assert match is not None
        head, _, tail = f" {match[2]} ".partition(" needs ")
        names, needs = head.split(), tail.split()
        for word in (*names, *needs):
            if not _NAME.fullmatch(word):
                raise KitValueError(f"facts script marker {lines[at].strip()!r}: bad name {word!r}")
        text_of = "".join(lines[at:end])
        found.append(Part(tuple(names), tuple(needs), text_of, match[1] == "section"))
    # A section may be printed by several parts; a state's name is its part's alone, or
    # a part needing the state would pull in a section of that name too.
    for part in found:
        for name in () if part.prints else part.names:
            if sum(name in p.names for p in found) > 1:
                raise KitValueError(f"facts script state {name!r} is not the only part so named")
    known = {n for p in found for n in p.names}
    for part in found:
        missing = [n for n in part.needs if n not in known]
        if missing:
            raise KitValueError(
                f"facts script part {' '.join(part.names)!r} needs {missing[0]!r}, "
                "which no marker names"
            )
    return "".join(lines[: starts[0]]), tuple(found)


def cut(text: str, wanted: Collection[str]) -> str:
    """The facts script text with only the parts printing the wanted sections, those they
    need, and the last ("end"); the prelude always. Unknown names are refused."""
    return _cut(text, frozenset(wanted))


@lru_cache(maxsize=64)
def _cut(text: str, wanted: frozenset[str]) -> str:
    prelude, found = parts(text)
    printed = {n for p in found if p.prints for n in p.names}
    unknown = sorted(wanted - printed)
    if unknown:
        raise KitValueError(f"no such facts section: {', '.join(map(repr, unknown))}")
    chosen = set(wanted) | {END}
    grew = True
    while grew:
        grew = False
        for part in found:
            if chosen.intersection(part.names) and not chosen.issuperset(part.needs):
                chosen |= set(part.needs)
                grew = True
    kept = [p.text for p in found if chosen.intersection(p.names)]
    return prelude + "".join(kept)
