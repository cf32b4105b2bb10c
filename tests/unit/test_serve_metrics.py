"""What `hostkit serve` makes of its runs' reports: only the last completed run's series,
fix counters that go with their check, and /healthz's judgement of time."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from kit.reports.model import Fix, Host, Result, Run
from kit.serve.metrics import RunCollector, State
from kit.serve.runs import RunResult


def run_of(*results: Result) -> RunResult:
    hosts = sorted({r.host for r in results})
    run = Run("s", "f", 1.0, "fix", hosts=[Host(h) for h in hosts], results=list(results))
    return RunResult(1, 1.0, 1000.0, run)


def fixed(host: str, check: str) -> Result:
    return Result(host, check, f"t[{host}]", "fixed", fixes=[Fix("applied", "did it")])


def samples(state: State) -> dict[tuple, float]:
    registry = CollectorRegistry()
    registry.register(RunCollector(state))
    text = generate_latest(registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_fix_counters_add_up_and_go_with_their_check():
    state = State(60)
    state.record(run_of(fixed("n1", "a"), fixed("n2", "a")))
    state.record(run_of(fixed("n1", "a"), Result("n2", "a", "t", "passed")))
    found = samples(state)
    key = "hostkit_fixes_applied_total"
    assert found[(key, (("check", "a"), ("host", "n1")))] == 2
    assert found[(key, (("check", "a"), ("host", "n2")))] == 1
    # n2 is no longer in the runs: its series go, counter and outcomes alike.
    state.record(run_of(Result("n1", "a", "t", "passed")))
    found = samples(state)
    assert {labels for name, labels in found if name == key} == {(("check", "a"), ("host", "n1"))}
    assert {dict(labels)["host"] for name, labels in found if "host" in dict(labels)} == {"n1"}


def test_a_failed_run_keeps_the_last_completed_runs_series():
    state = State(60)
    state.record(run_of(Result("n1", "a", "t", "failed")))
    state.record(RunResult(None, 0.5, 2000.0, None, "killed by signal 9 (SIGKILL)"))
    found = samples(state)
    outcome = (("check", "a"), ("host", "n1"), ("outcome", "failed"), ("severity", "error"))
    assert found[("hostkit_check_outcome", outcome)] == 1
    assert found[("hostkit_last_run_success", ())] == 0
    assert found[("hostkit_last_run_exit_code", ())] == -1
    assert found[("hostkit_last_completed_run_timestamp_seconds", ())] == 1000.0
    assert found[("hostkit_runs_total", (("result", "failed"),))] == 1


def test_healthz_is_stale_once_no_run_completed_for_stale_after():
    state = State(60)
    state.started = 500.0
    assert state.health(now=550.0) == (True, "ok: starting, no run completed yet (50s)")
    assert state.health(now=561.0)[0] is False
    state.record(run_of(Result("n1", "a", "t", "passed")))  # ended at 1000
    assert state.health(now=1030.0) == (True, "ok: the last run completed 30s ago")
    state.record(RunResult(None, 0.5, 1070.0, None, "exit 3"))  # a failed run is no news
    assert state.health(now=1061.0) == (
        False,
        "stale: no run completed since the last completed run 61s ago (more than 60s)",
    )
