"""The plugin's warm-up: one host's failure, whatever its kind, stays that host's."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from kit import collected
from kit.connection.spec import HostSpec
from kit.hosts import HostContext


class _BrokenGather(HostContext):
    # Stands in for a defect anywhere below the facts gather (a parser, a transport) that
    # escapes as something other than a KitError.
    def _gather(self):
        raise RuntimeError("defect in one host's gather")


def test_a_non_kit_error_in_one_host_does_not_abort_the_warm_up():
    broken = _BrokenGather(HostSpec("local"), "broken", "h0", {})
    fine = HostContext(HostSpec("local"), "local://", "local", {})
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda c: collected.warm(c, True), [broken, fine]))
    assert fine._facts is not None
    # Not swallowed for good: the host's own checks meet the error when they read facts.
    with pytest.raises(RuntimeError, match="defect"):
        broken.facts  # noqa: B018
