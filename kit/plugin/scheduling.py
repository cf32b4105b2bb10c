"""xdist scheduling that keeps all of a host's checks on one worker.

One worker per host means one connection and one facts gather per host; hosts are
spread across workers as whole units, all of them at the start, so that each worker
knows every host it will check before its first check and can connect to them all
at once. The controller and each worker compute the same share from the same
collection (`shares`), so no message has to tell a worker its hosts. Each worker runs
its hosts in collection order, which --fix-batch's waves rely on (kit.plugin.waves).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xdist.scheduler import LoadScopeScheduling


def host_of(nodeid: str, labels: Sequence[str]) -> str | None:
    """The host label a test id starts its parameters with, if any."""
    _, bracket, params = nodeid.partition("[")
    if not bracket:
        return None
    matches = [label for label in labels if params.startswith(label)]
    return max(matches, key=len) if matches else None


def scope_of(nodeid: str, labels: Sequence[str]) -> str:
    """A test's unit of work: its host, or (with no host) its module or class, as loadscope."""
    return host_of(nodeid, labels) or nodeid.rsplit("::", 1)[0]


def worker_ids(count: int) -> list[str]:
    """xdist's names for the first `count` workers."""
    return [f"gw{i}" for i in range(count)]


def shares(
    nodeids: Sequence[str], labels: Sequence[str], workers: Sequence[str]
) -> dict[str, list[str]]:
    """Each worker's scopes: the largest first, each to the worker with the fewest tests so
    far (the first such worker on a tie). Depends only on its arguments."""
    sizes: dict[str, int] = {}
    for nodeid in nodeids:
        scope = scope_of(nodeid, labels)
        sizes[scope] = sizes.get(scope, 0) + 1
    load = {worker: 0 for worker in workers}
    given: dict[str, list[str]] = {worker: [] for worker in workers}
    for scope, size in sorted(sizes.items(), key=lambda pair: -pair[1]):
        worker = min(workers, key=lambda w: load[w])
        given[worker].append(scope)
        load[worker] += size
    return given


class _Unit(dict[str, bool]):
    """A unit's tests, done or not, counting those not done so that asking costs nothing."""

    def __init__(self, nodeids: Sequence[str] = ()) -> None:
        super().__init__(dict.fromkeys(nodeids, False))
        self.pending = len(self)

    def __setitem__(self, nodeid: str, done: bool) -> None:
        before = self.get(nodeid)
        super().__setitem__(nodeid, done)
        self.pending += (not done) - (before is False)


class HostScheduling(LoadScopeScheduling):
    def __init__(self, config: object, log: object, labels: Sequence[str]) -> None:
        super().__init__(config, log)  # type: ignore[arg-type]
        self.labels = tuple(labels)
        self._scopes: dict[str, str] = {}
        self._indices: dict[Any, dict[str, int]] = {}

    def _split_scope(self, nodeid: str) -> str:
        scope = self._scopes.get(nodeid)
        if scope is None:
            scope = self._scopes[nodeid] = scope_of(nodeid, self.labels)
        return scope

    def schedule(self) -> None:
        """Send every worker all of its hosts' tests at once, then let it finish."""
        assert self.collection_is_completed
        if self.collection is not None:
            # A worker has joined in place of one that crashed: it takes all the work left.
            for node in self.nodes:
                if not node.shutting_down and self.workqueue:
                    self._hand_over(node)
            return
        if not self._check_nodes_have_same_collection():
            self.log("**Different tests collected, aborting run**")
            return
        nodes = {node.workerinput["workerid"]: node for node in self.nodes}
        self.collection = list(next(iter(self.registered_collections.values())))
        if not self.collection:
            return
        # Workers named otherwise get their shares all the same; they only cannot work
        # out their own, so they connect to each host when its first check runs.
        names = worker_ids(len(nodes))
        given = shares(
            self.collection, self.labels, names if set(names) == set(nodes) else sorted(nodes)
        )
        by_scope: dict[str, list[str]] = {}
        for nodeid in self.collection:
            by_scope.setdefault(self._split_scope(nodeid), []).append(nodeid)
        for worker, scopes in given.items():
            node = nodes[worker]
            indices: list[int] = []
            for scope in scopes:
                self.assigned_work[node][scope] = _Unit(by_scope[scope])
                indices += [self._index(node, nodeid) for nodeid in by_scope[scope]]
            if indices:
                # In collection order, which is host order and so wave order (--fix-batch):
                # a worker never waits on a later wave's fix with an earlier wave of its own
                # still to run.
                node.send_runtest_some(sorted(indices))
            node.shutdown()

    def remove_node(self, node: Any) -> str | None:
        crashed = super().remove_node(node)
        if crashed is not None:
            # Reported as crashed already; run again, it would most likely crash again.
            for unit in self.workqueue.values():
                if crashed in unit:
                    unit[crashed] = True
        return crashed

    def _hand_over(self, node: Any) -> None:
        """All the work left to one worker at once, in collection order, as `schedule` does;
        one unit at a time, a worker holding its last test waits for the next forever."""
        indices: list[int] = []
        while self.workqueue:
            scope, work_unit = self.workqueue.popitem(last=False)
            unit = _Unit([nodeid for nodeid, done in work_unit.items() if not done])
            self.assigned_work.setdefault(node, {})[scope] = unit
            indices += [self._index(node, nodeid) for nodeid in unit]
        if indices:
            node.send_runtest_some(sorted(indices))
        node.shutdown()

    def _assign_work_unit(self, node: Any) -> None:
        # As loadscope's, with the index of a test looked up rather than searched for.
        scope, work_unit = self.workqueue.popitem(last=False)
        unit = _Unit([nodeid for nodeid, done in work_unit.items() if not done])
        self.assigned_work.setdefault(node, {})[scope] = unit
        node.send_runtest_some([self._index(node, nodeid) for nodeid in unit])

    def _index(self, node: Any, nodeid: str) -> int:
        index = self._indices.get(node)
        if index is None:
            collection = self.registered_collections[node]
            index = self._indices[node] = {n: i for i, n in enumerate(collection)}
        return index[nodeid]

    def _pending_of(self, workload: dict[str, dict[str, bool]]) -> int:
        return sum(
            unit.pending if isinstance(unit, _Unit) else list(unit.values()).count(False)
            for unit in workload.values()
        )
