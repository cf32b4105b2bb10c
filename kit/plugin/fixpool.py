"""--fix in a serial run: the hosts of a wave are checked and fixed at once, on threads.

pytest runs a run's checks one after another and a failing check's fix runs inside its
call (kit.plugin.fixentry), so without this each host's fixes wait for every earlier
host's. Here, when the first check of a wave is due (the --fix-batch waves, or all hosts
as one), each host of the wave gets a thread from a bounded pool, which runs that host's
checks in their order, each failing one's fix and re-check with it, exactly as pytest's
call would. What each check came to is kept; when pytest reaches the check it reports
what was kept instead of running it again. So the output stays grouped per host, every
report says what it would have said, and the wave rules hold: a wave starts once every
host of the one before it has been reported.

pytest is not thread safe. A thread touches only its host (its connection, facts, lock
and journal) and the run's few shared maps, which lock; it reports nothing, calls no hook
and writes no item's stash: a check runs there against a stand-in (`Detached`) that keeps
what the check and its fix add to the item, copied to the item by pytest's own thread.

A check runs on a thread only when pytest would give it nothing a thread cannot: its
parameters and the `host`, `conn`, `facts` and `runner` fixtures; no skip or xfail mark;
not a coroutine. A host's checks run on its thread up to the first that does not qualify;
that one and the rest run in pytest's loop, as without the pool. Under -x or --maxfail the
run must stop at the first failure, so its fixes run one host after another.

pytest captures output, log records and warnings per test on its own thread: what a check
prints, logs or warns on a host's thread lands with whichever test pytest is reporting
then. Checks only read, and a fix's account is its Change, so nothing is lost that a
report shows.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from kit.plugin import batch, collected, fixentry, fixpackages
from kit.plugin.fixdetached import Detached, arguments, eligible, fails

if TYPE_CHECKING:
    from kit.plugin.hosts import HostContext
    from kit.plugin.runstate import RunState

PLUGIN = "hostkit-fix-pool"
DEFAULT = 8  # hosts fixed at once when --fix-parallel does not say


def configure(config: pytest.Config, state: RunState) -> None:
    """Register the pool for a serial --fix run; raise pytest.UsageError for a bad count."""
    from kit.plugin import startup

    wanted: int | None = config.getoption("hostkit_fix_parallel", None)
    if wanted is not None and wanted < 1:
        raise pytest.UsageError(
            f"--fix-parallel {wanted}: give how many hosts to fix at once, 1 or more"
        )
    serial = not hasattr(config, "workerinput") and startup.xdist_mode(config) is None
    # --setup-only and --setup-plan run no check; -x and --maxfail stop at the first failure.
    setting_up = config.option.setuponly or config.option.setupplan
    if not state.fix or wanted == 1 or not serial or config.option.maxfail or setting_up:
        return
    config.pluginmanager.register(FixPool(state, wanted or DEFAULT), PLUGIN)


@dataclass
class Kept:
    """What a check run on its host's thread came to, for pytest's thread to report."""

    properties: list[tuple[str, object]]
    stash: dict[Any, Any]
    error: BaseException | None
    duration: float

    def apply(self, item: pytest.Item) -> None:
        item.user_properties[:] = self.properties
        for key, value in self.stash.items():
            item.stash[key] = value
        if self.error is not None:
            raise self.error


def run_one(item: pytest.Function, ctx: HostContext, failed: AssertionError | None = None) -> Kept:
    """Run the check and its fix flow on this thread; what pytest would have reported.
    failed: what the check failed with before the run changed the host for its fix
    (kit.plugin.fixpackages); it is not run again before its fix."""
    detached = Detached(item, arguments(item, ctx))
    batcher = batch.active()
    began = time.perf_counter()
    error: BaseException | None = None
    # Its reads are answered from the host's batch and recorded for it, as on pytest's thread.
    with batcher.running(item) if batcher is not None else contextlib.nullcontext():
        try:
            fixentry.run_check(detached, failed)  # type: ignore[arg-type]
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # pytest reports a check's SystemExit as it ends
            error = exc
    took = time.perf_counter() - began
    return Kept(detached.user_properties, detached.stash.own, error, took)


class FixPool:
    """The pytest plugin: starts each wave's hosts on the pool, reports what they kept."""

    def __init__(self, state: RunState, limit: int) -> None:
        self.state = state
        self.limit = limit
        self.waves: list[list[str]] = []
        self.wave_of: dict[str, int] = {}
        self.items_of: dict[str, list[pytest.Function]] = {}
        self.started: set[int] = set()
        self.futures: dict[str, Future[None]] = {}
        self.kept: dict[str, Kept] = {}
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.pool: ThreadPoolExecutor | None = None
        self.replaying: pytest.Item | None = None

    # -- pytest hooks, on pytest's thread --------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        hosts: dict[str, list[pytest.Item]] = {}
        for item in session.items:
            label = collected.host_label(item)
            if label is not None:
                hosts.setdefault(label, []).append(item)
        ledger = self.state.waves
        self.waves = ledger.waves if ledger is not None else [list(hosts)]
        self.wave_of = {host: n for n, wave in enumerate(self.waves) for host in wave}
        for label, items in hosts.items():
            # Only the checks up to the host's first that needs pytest's setup: the host's
            # checks keep their order whichever thread runs them.
            run: list[pytest.Function] = []
            for item in items:
                if not isinstance(item, pytest.Function) or not eligible(item):
                    break
                run.append(item)
            self.items_of[label] = run

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> Any:
        label = collected.host_label(item)
        if label is not None and label in self.wave_of:
            self._start(self.wave_of[label])
            future = self.futures.get(label)
            if future is not None:
                # The host's thread is done with it before pytest's setup touches it.
                future.result()
        return (yield)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, Any, Any]:
        with self.lock:
            kept = self.kept.pop(item.nodeid, None)
        if kept is None:
            return (yield)
        self.replaying = item
        try:
            yield  # the check is not run again (pytest_pyfunc_call below)
        finally:
            self.replaying = None
        item.stash[_DURATION] = kept.duration
        kept.apply(item)
        return None

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem: pytest.Function) -> bool | None:
        return True if pyfuncitem is self.replaying else None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report: pytest.TestReport = yield
        if call.when == "call" and _DURATION in item.stash:
            report.duration = item.stash[_DURATION]  # the check's time on its thread
            del item.stash[_DURATION]
        return report

    def pytest_unconfigure(self) -> None:
        self.stop.set()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    # -- the waves ------------------------------------------------------------------------

    def _start(self, wave: int) -> None:
        if wave in self.started:
            return
        # Every earlier wave is over before this one starts: its failures decide this one's.
        for earlier in range(wave):
            self._start(earlier)
            for host in self.waves[earlier]:
                future = self.futures.get(host)
                if future is not None:
                    future.result()
        self.started.add(wave)
        hosts = [h for h in self.waves[wave] if self.items_of.get(h)]
        if not hosts:
            return
        if self.pool is None:
            size = min(self.limit, max(len(w) for w in self.waves))
            self.pool = ThreadPoolExecutor(size, thread_name_prefix="hostkit-fix")
        for host in hosts:
            items = self.items_of[host]
            ctx = collected.context(items[0])
            if ctx is None:
                continue
            self.futures[host] = self.pool.submit(self._run_host, ctx, items)

    def _run_host(self, ctx: HostContext, items: list[pytest.Function]) -> None:
        """On a pool thread: the host's checks in their order, until one cannot run here;
        first, the packages their fixes need, installed together (kit.plugin.fixpackages)."""
        failed: dict[str, AssertionError] = {}
        with contextlib.suppress(Exception):  # as below: pytest's own run reports it
            check = lambda item: fails(item, ctx)  # noqa: E731
            failed = fixpackages.install_ahead(self.state, ctx, items, check)
        for item in items:
            if self.stop.is_set():
                return
            try:
                kept = run_one(item, ctx, failed.get(item.nodeid))
            except Exception:
                # Connecting or gathering facts failed: pytest's setup of this check meets
                # the same error and reports it, as in a run without the pool.
                return
            with self.lock:
                self.kept[item.nodeid] = kept


_DURATION = pytest.StashKey[float]()
