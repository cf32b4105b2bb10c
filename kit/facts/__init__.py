"""What a host is: gathered once per run in one round trip, parsed by pure functions."""

from kit.facts.gather import gather_facts
from kit.facts.model import (
    UNKNOWN,
    Facts,
    InitSystem,
    Interface,
    Mount,
    OSInfo,
    PackageManager,
    Socket,
    TimeSync,
    fill,
)
from kit.facts.parse import parse_facts

__all__ = [
    "UNKNOWN",
    "Facts",
    "InitSystem",
    "Interface",
    "Mount",
    "OSInfo",
    "PackageManager",
    "Socket",
    "TimeSync",
    "fill",
    "gather_facts",
    "parse_facts",
]
