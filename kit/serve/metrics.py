"""The last run as Prometheus metrics: what /metrics shows and /healthz judges.

Names and labels follow node_exporter's state sets (`node_systemd_unit_state{name,state}`):
every outcome a check may have is a series, 1 for the one it has and 0 for the others, so
a query or an alert reads one series and a check that flips changes a value rather than
starting a series. goss's `goss_tests_outcomes_total` counters add up every run; a verdict
is the last run's, so these are gauges (goss#867 asks the same of goss).

    hostkit_check_outcome{host,check,severity,outcome}   1 for the host x check's outcome
                                    (the worst of its results, as the HTML report's cell)
    hostkit_host_unreachable{host}                       1 when the run could not reach it
    hostkit_fixes_applied_total{host,check}              fixes applied by --fix runs
    hostkit_last_run_success                             1 when the last run completed
    hostkit_last_run_exit_code                           its exit code (-1: a signal)
    hostkit_last_run_duration_seconds, hostkit_last_run_timestamp_seconds (its end)
    hostkit_last_completed_run_timestamp_seconds         the end of the last completed run
    hostkit_runs_total{result="completed"|"failed"}

Only the last completed run's hosts and checks have series: one that a run no longer has
is gone from the next scrape, not left stale (the collector builds every scrape from the
last run). A fix counter lives as long as its host and check are in the runs.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from kit.reports.model import OUTCOMES, Run, worst
from kit.serve.runs import RunResult


class State:
    """What the server knows of its runs; written by the run loop, read by scrapes."""

    def __init__(self, stale_after: float) -> None:
        self.stale_after = stale_after
        self.started = time.time()
        self._lock = threading.Lock()
        self.last: RunResult | None = None
        self.completed: RunResult | None = None  # the last run with a report
        self.runs: Counter[str] = Counter({"completed": 0, "failed": 0})
        self.fixes: Counter[tuple[str, str]] = Counter()

    def record(self, result: RunResult) -> None:
        with self._lock:
            self.last = result
            self.runs["completed" if result.completed else "failed"] += 1
            if result.run is None:
                return
            self.completed = result
            cells = {(r.host, r.check) for r in result.run.results}
            # Counters of cells the runs no longer have go with them.
            self.fixes = Counter({cell: n for cell, n in self.fixes.items() if cell in cells})
            for r in result.run.results:
                self.fixes[(r.host, r.check)] += sum(f.status == "applied" for f in r.fixes)

    def health(self, now: float | None = None) -> tuple[bool, str]:
        """Whether a run completed within stale_after (or the server started that
        recently), and the sentence saying so."""
        now = time.time() if now is None else now
        with self._lock:
            completed = self.completed.finished if self.completed else None
        since = completed if completed is not None else self.started
        age = now - since
        if age <= self.stale_after:
            if completed is None:
                return True, f"ok: starting, no run completed yet ({age:.0f}s)"
            return True, f"ok: the last run completed {age:.0f}s ago"
        what = "the last completed run" if completed is not None else "the server started"
        return False, (
            f"stale: no run completed since {what} {age:.0f}s ago (more than {self.stale_after:g}s)"
        )


class RunCollector(Collector):
    """Builds every scrape's metrics from State."""

    def __init__(self, state: State) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        state = self.state
        with state._lock:
            last, completed = state.last, state.completed
            runs, fixes = dict(state.runs), dict(state.fixes)
        total = CounterMetricFamily(
            "hostkit_runs", "Check runs made, by whether they completed", labels=["result"]
        )
        for result, count in sorted(runs.items()):
            total.add_metric([result], count)
        yield total
        if last is not None:
            yield _gauge(
                "hostkit_last_run_success", "1 when the last run completed", last.completed
            )
            code = -1 if last.exit_code is None else last.exit_code
            yield _gauge(
                "hostkit_last_run_exit_code",
                "Exit code of the last run (0 compliant, 1 non-compliant, 10 unreachable; "
                "-1 killed)",
                code,
            )
            yield _gauge(
                "hostkit_last_run_duration_seconds", "Wall time of the last run", last.duration
            )
            yield _gauge(
                "hostkit_last_run_timestamp_seconds", "When the last run ended", last.finished
            )
        if completed is None or completed.run is None:
            return
        yield _gauge(
            "hostkit_last_completed_run_timestamp_seconds",
            "When the last completed run ended",
            completed.finished,
        )
        yield from _run_metrics(completed.run, fixes)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value))


def _run_metrics(run: Run, fixes: dict[tuple[str, str], int]) -> Iterator[Metric]:
    severity = {c.id: c.severity for c in run.checks}
    cells: dict[tuple[str, str], list[str]] = {}
    for r in run.results:
        cells.setdefault((r.host, r.check), []).append(r.outcome)
    outcome = GaugeMetricFamily(
        "hostkit_check_outcome",
        "1 for the outcome each check had on each host in the last completed run, 0 for the others",
        labels=["host", "check", "severity", "outcome"],
    )
    for (host, check), found in sorted(cells.items()):
        now = worst(found)
        for name in OUTCOMES:
            level = severity.get(check, "error")
            outcome.add_metric([host, check, level, name], float(name == now))
    yield outcome
    unreachable = GaugeMetricFamily(
        "hostkit_host_unreachable",
        "1 when the last completed run could not reach the host",
        labels=["host"],
    )
    for host in run.hosts:
        unreachable.add_metric([host.name], float(host.unreachable is not None))
    yield unreachable
    applied = CounterMetricFamily(
        "hostkit_fixes_applied",
        "Fixes applied by --fix runs, by host and check",
        labels=["host", "check"],
    )
    for (host, check), count in sorted(fixes.items()):
        applied.add_metric([host, check], count)
    yield applied
