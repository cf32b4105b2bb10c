"""A check run outside pytest's call, on a thread or ahead of its turn: a stand-in for its
item (`Detached`) that keeps what its run adds, with the arguments its fixtures would give.

kit.plugin.fixpool runs a host's checks so on the host's thread; kit.plugin.fixpackages
runs the checks whose fixes may install packages so before their turn, to learn which
fail. Only a check that needs nothing of pytest's setup can (`eligible`).
"""

from __future__ import annotations

import contextlib
import inspect
from typing import TYPE_CHECKING, Any

import pytest

from kit.plugin import batch
from kit.plugin.fix import HOST_PARAM

if TYPE_CHECKING:
    from kit.plugin.hosts import HostContext

# The fixtures a thread can give a check: testinfra's host and the plugin's (kit.plugin.fixtures).
FIXTURES = frozenset({"host", HOST_PARAM, "conn", "facts", "runner"})
_MARKS = frozenset({"skip", "skipif", "xfail"})
# What pytest.skip, pytest.fail and pytest.xfail raise, which are not Exceptions.
OUTCOMES: tuple[type[BaseException], ...] = (
    pytest.skip.Exception,
    pytest.fail.Exception,
    pytest.xfail.Exception,
)


def eligible(item: pytest.Item) -> bool:
    """Whether the check can run on a thread: nothing in its setup needs pytest."""
    if not isinstance(item, pytest.Function) or inspect.iscoroutinefunction(item.obj):
        return False
    callspec = getattr(item, "callspec", None)
    params = set(callspec.params) if callspec is not None else set()
    if HOST_PARAM not in params or not set(item._fixtureinfo.argnames) <= FIXTURES | params:
        return False
    # testinfra's own host fixture asks for `request`: only the check itself may not.
    if not set(item.fixturenames) <= FIXTURES | params | {"request"}:
        return False
    return not any(mark.name in _MARKS for mark in item.iter_markers())


class _Stash:
    """An item's stash as a thread may use it: reads fall through, writes stay here."""

    def __init__(self, real: pytest.Stash) -> None:
        self.real = real
        self.own: dict[Any, Any] = {}

    def __setitem__(self, key: Any, value: Any) -> None:
        self.own[key] = value

    def __getitem__(self, key: Any) -> Any:
        return self.own[key] if key in self.own else self.real[key]

    def get(self, key: Any, default: Any = None) -> Any:
        return self.own[key] if key in self.own else self.real.get(key, default)

    def __contains__(self, key: Any) -> bool:
        return key in self.own or key in self.real


class Detached:
    """A check as a host's thread runs it: the item's, read only, but for what its run adds
    (user properties, stash entries) and its arguments, which the thread provides."""

    def __init__(self, item: pytest.Function, funcargs: dict[str, Any]) -> None:
        self.item = item
        self.user_properties = list(item.user_properties)
        self.stash = _Stash(item.stash)
        self.funcargs = funcargs

    def __getattr__(self, name: str) -> Any:
        return getattr(self.item, name)

    def runtest(self) -> None:
        # As pytest's own pytest_pyfunc_call calls it, without the hook.
        names = self.item._fixtureinfo.argnames
        self.item.obj(**{name: self.funcargs[name] for name in names})


def arguments(item: pytest.Function, ctx: HostContext) -> dict[str, Any]:
    """The check's arguments, as its fixtures would give them (kit.plugin.fixtures)."""
    args = dict(item.callspec.params)
    names = set(item.fixturenames)
    args["host"] = args[HOST_PARAM]
    if "conn" in names:
        args["conn"] = ctx.conn
    if "facts" in names:
        args["facts"] = ctx.view()
    if "runner" in names:
        import kit.runner

        args["runner"] = kit.runner
    return args


def fails(item: pytest.Function, ctx: HostContext) -> AssertionError | None:
    """What the check fails with now, run on this thread with nothing kept of its run;
    None when it passes, or errs (its own run reports that)."""
    detached = Detached(item, arguments(item, ctx))
    batcher = batch.active()
    with batcher.running(item) if batcher is not None else contextlib.nullcontext():
        try:
            detached.runtest()
        except AssertionError as first:
            return first
        except (Exception, *OUTCOMES):
            # pytest.skip and pytest.fail raise BaseExceptions: the check's turn reports them.
            return None
    return None
