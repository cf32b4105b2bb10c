"""Disposable Debian test hosts: systemd-nspawn containers and a qemu VM.

    fleet = kit.testhosts.up(containers=2, vm=True)
    for host in fleet.hosts:
        conn = kit.connect(host.spec, **host.connect_options)
    kit.testhosts.down(fleet.state_dir)

Command line: `python -m kit.testhosts up [--vm] [--containers N] | down | list | ssh NAME`.
"""

from kit.testhosts.errors import (
    BootTimeout,
    NoFreePort,
    NotRoot,
    StepFailed,
    TestHostError,
    ToolMissing,
)
from kit.testhosts.fleet import down, up
from kit.testhosts.state import Fleet, Host, load

__all__ = [
    "BootTimeout",
    "Fleet",
    "Host",
    "NoFreePort",
    "NotRoot",
    "StepFailed",
    "TestHostError",
    "ToolMissing",
    "down",
    "load",
    "up",
]
