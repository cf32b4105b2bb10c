"""What a host is: gathered once per run in one round trip, parsed by pure functions."""

from kit.facts.gather import gather_facts
from kit.facts.model import (
    UNKNOWN,
    Facts,
    FileStat,
    InitSystem,
    Interface,
    Mount,
    OSInfo,
    PackageManager,
    Probes,
    Socket,
    TimeSync,
    fill,
)
from kit.facts.parse import parse_facts

__all__ = [
    "UNKNOWN",
    "Facts",
    "FileStat",
    "InitSystem",
    "Interface",
    "Mount",
    "OSInfo",
    "PackageManager",
    "Probes",
    "Socket",
    "TimeSync",
    "fill",
    "gather_facts",
    "parse_facts",
]
