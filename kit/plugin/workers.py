"""How many xdist workers `-n auto` starts for a hostkit run.

xdist's own answer is one worker per core. For a hostkit run that is often slower than
no workers at all: a serial run already waits on every host at once (it connects,
gathers facts and fetches batches on threads), so what workers can share out is only
the controller's CPU per check, while each worker first pays a whole pytest start-up
and collection of its own, and the controller still handles every report. A worker
repays that only with enough hosts behind it and a core of its own to run on; one
worker alone never does. `-n N` is taken as given.
"""

from __future__ import annotations

import os

import pytest

from kit.plugin.runstate import AUTO_WORKERS

# A worker's start-up (interpreter, pytest, testinfra, the plugin, collection) costs about
# as much controller CPU as this many hosts' checks: about 1.5 s against about 50 ms per
# host of 30 checks (`benchmarks/run.py`, see the README's Speed section).
HOSTS_PER_WORKER = 32


def cores() -> int:
    """The cores this process may run on (its affinity, as a container's cpuset sets it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def auto_workers(hosts: int | None, cpus: int) -> int:
    """Workers for `-n auto`: 0 (a serial run) unless at least two would each repay themselves.

    The controller keeps a core for itself. hosts is None when the count is not known
    before collection (an inventory file): then only the cores decide.
    """
    spare = cpus - 1
    workers = spare if hosts is None else min(spare, hosts // HOSTS_PER_WORKER)
    return workers if workers >= 2 else 0


def host_count(hosts_option: str | None, inventory: str | None) -> int | None:
    """How many hosts `--hosts` names; None when an inventory or pattern decides it."""
    if inventory:
        return None
    names = [h.strip() for h in (hosts_option or "").split(",") if h.strip()]
    if any("*" in n or "ansible://" in n or "?" in n for n in names):
        return None
    return max(len(names), 1)


def for_auto(config: pytest.Config) -> int | None:
    """`-n auto`'s count for this run, saying what it chose in the header; None for xdist's
    own way (a count the user set, or a run against no hosts)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # the user's own count, which xdist reads
    inventory = config.getoption("hostkit_inventory")
    if not (config.option.hosts or inventory):
        # Not a run against hosts (a project's own tests with hostkit installed): xdist's way.
        return None
    cpus = cores()
    count = host_count(config.option.hosts, inventory)
    chosen = auto_workers(count, cpus)
    hosts = "an inventory's hosts" if count is None else f"{count} host(s)"
    how = f"{chosen} workers" if chosen else "no workers (a serial run)"
    config.stash[AUTO_WORKERS] = f"hostkit: -n auto: {how} for {hosts} on {cpus} core(s)"
    return chosen
