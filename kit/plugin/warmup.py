"""Warming the hosts up before their checks need them: connect every host, gather facts
and fetch each host's batch of reads all at once, on threads.

Done lazily, host after host, each connect and gather would wait out its own round trips.
A serial run starts connecting while it plans and collects; an xdist worker once it
knows the hosts the controller will give it.
"""

from __future__ import annotations

import contextlib
import gc
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from kit.plugin import batch, collected, hosts, startup
from kit.plugin.hosts import HostContext, HostRegistry
from kit.plugin.runstate import STATE

PREFETCH_THREADS = 32


def connect_early(config: pytest.Config, registry: HostRegistry) -> None:
    """A serial run connects to its remote hosts while it plans and collects.

    Not for --collect-only, which connects to nothing, nor under xdist: there each worker
    connects to the hosts it is given, once it knows them (after_collection).
    """
    if config.option.collectonly or hasattr(config, "workerinput") or startup.xdist_mode(config):
        return
    remote = [ctx for ctx in registry if ctx.spec.scheme != "local"]
    if remote:
        hosts.connect_in_background(remote, PREFETCH_THREADS)


def after_collection(session: pytest.Session) -> None:
    """Connect every host, and gather facts where checks read them, all at once."""
    config = session.config
    _drop_idle_hypothesis(config)
    if config.option.collectonly or not session.items:
        return
    # The collected items and everything they hold live until the run ends. Out of the
    # collector's sight, they no longer make each full collection (during the run, and
    # the five pytest makes at its end) cost time in proportion to the run's size.
    gc.freeze()
    items = session.items
    workerinput = getattr(config, "workerinput", None)
    registry = config.stash[STATE].registry
    if workerinput is not None:
        if not workerinput.get("hostkit_shares"):
            return
        items = _own_items(registry, items, workerinput)
    used: dict[str, bool] = {}
    for item in items:
        label = collected.host_label(item)
        if label is not None:
            wants = "facts" in getattr(item, "fixturenames", ())
            used[label] = used.get(label, False) or wants
    contexts = [c for c in registry if c.label in used]
    if len(contexts) < 2:
        return
    with ThreadPoolExecutor(min(PREFETCH_THREADS, len(contexts))) as pool:
        list(pool.map(lambda c: warm(c, used[c.label]), contexts))


def warm(ctx: HostContext, facts: bool) -> None:
    # A failed connect is remembered by the context and reported by the host's checks. Any
    # other error is not cached, so the host's checks meet it again; here it would abort the
    # prefetch of every other host.
    with contextlib.suppress(Exception):
        ctx.conn  # noqa: B018 - connecting is the point
        if facts:
            ctx.facts  # noqa: B018
        batcher = batch.active()
        if batcher is not None:
            batcher.prefetch(ctx)


def _own_items(
    registry: HostRegistry, items: list[pytest.Item], workerinput: dict[str, Any]
) -> list[pytest.Item]:
    """The items of the hosts this worker's share holds, worked out as the controller does."""
    from kit.plugin import scheduling

    labels = [c.label for c in registry]
    workers = scheduling.worker_ids(workerinput["workercount"])
    nodeids = [item.nodeid for item in items]
    mine = set(scheduling.shares(nodeids, labels, workers).get(workerinput["workerid"], ()))
    return [item for item in items if scheduling.scope_of(item.nodeid, labels) in mine]


def _drop_idle_hypothesis(config: pytest.Config) -> None:
    """Unregister hypothesis's pytest plugin when no collected test module imported hypothesis.

    Its terminal summary imports hypothesis in full, which costs a run that has no property
    test more than hostkit's own start-up. Only the process that collected the tests can
    tell: an xdist controller keeps the plugin for the reports its workers send.
    """
    if "hypothesis" in sys.modules:
        return
    if not hasattr(config, "workerinput") and getattr(config.option, "dist", "no") != "no":
        return
    plugin = config.pluginmanager.get_plugin("hypothesispytest")
    if plugin is not None:
        config.pluginmanager.unregister(plugin)
