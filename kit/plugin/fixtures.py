"""The fixtures a check can ask for besides testinfra's `host`: the hostkit connection
behind it, the host's facts and the runner.

The plugin module (kit.plugin.hooks) imports them so that pytest finds them there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from kit.connection import Connection
    from kit.facts import Facts
    from kit.plugin.hosts import HostContext


@pytest.fixture
def conn(host: Any) -> Connection:
    """The hostkit connection behind `host`."""
    return _backend_context(host).conn


@pytest.fixture
def facts(host: Any) -> Facts:
    """The host's facts, gathered once per host per run; after a fix, what it may have
    changed is gathered again when read (kit.plugin.hosts.HostContext.view)."""
    return _backend_context(host).view()


@pytest.fixture
def runner() -> Any:
    """The runner's operations: `runner.set_sysctl(conn, facts, key, value)`."""
    import kit.runner

    return kit.runner


def _backend_context(host: Any) -> HostContext:
    from kit.plugin.hosts import context_of

    ctx = context_of(host.backend)
    if ctx is None:
        raise pytest.UsageError(f"{host!r} is not a hostkit host")
    return ctx
