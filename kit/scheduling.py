"""xdist scheduling that keeps all of a host's checks on one worker.

One worker per host means one connection and one facts gather per host; hosts are
spread across workers as whole units.
"""

from __future__ import annotations

from collections.abc import Sequence

from xdist.scheduler import LoadScopeScheduling


def host_of(nodeid: str, labels: Sequence[str]) -> str | None:
    """The host label a test id starts its parameters with, if any."""
    _, bracket, params = nodeid.partition("[")
    if not bracket:
        return None
    matches = [label for label in labels if params.startswith(label)]
    return max(matches, key=len) if matches else None


class HostScheduling(LoadScopeScheduling):
    def __init__(self, config: object, log: object, labels: Sequence[str]) -> None:
        super().__init__(config, log)  # type: ignore[arg-type]
        self.labels = tuple(labels)

    def _split_scope(self, nodeid: str) -> str:
        return host_of(nodeid, self.labels) or super()._split_scope(nodeid)
