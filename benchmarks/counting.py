"""A pytest plugin for the benchmark: counts what crosses the wire, and times connect and facts.

Loaded into both suites' pytest processes with `-p counting`; it only wraps
methods to count calls and leaves their behaviour alone. Every process (the
controller and each xdist worker) writes its own JSON file into $HKB_COUNTS.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections import Counter
from pathlib import Path

import paramiko
import pytest

COUNTS: Counter[str] = Counter()
SECONDS: Counter[str] = Counter()


def _counted(owner: type, name: str, key: str, timed: bool = False) -> None:
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        COUNTS[key] += 1
        if not timed:
            return original(*args, **kwargs)
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            SECONDS[key] += time.perf_counter() - started

    setattr(owner, name, wrapper)


_counted(paramiko.Transport, "start_client", "connections", timed=True)
_counted(paramiko.Transport, "open_channel", "channels")
_counted(paramiko.Channel, "exec_command", "exec_requests")

try:
    from kit.connection import ssh
    from kit.plugin import hosts
except ImportError:
    pass
else:
    # One command sent through an open shell or channel: one round trip.
    _counted(ssh.SSHConnection, "_exec", "commands", timed=True)
    _counted(hosts.HostContext, "_gather", "facts", timed=True)
    _counted(ssh.SSHConnection, "__init__", "kit_connects", timed=True)

try:
    from testinfra.backend.paramiko import ParamikoBackend
except ImportError:
    pass
else:
    _counted(ParamikoBackend, "_exec_command", "commands", timed=True)


# Written at session finish, not at unconfigure: an xdist controller may end a worker
# as soon as the worker reports its session finished, before the worker unconfigures.
@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    out = os.environ.get("HKB_COUNTS")
    if not out:
        return
    data = {"counts": dict(COUNTS), "seconds": dict(SECONDS)}
    Path(out, f"{os.getpid()}.json").write_text(json.dumps(data))
