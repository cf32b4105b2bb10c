"""`hostkit serve` as a scraper sees it: a real server on loopback running the suite of
tests/local/serving.py on this machine, its /metrics parsed by prometheus_client's parser."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from kit.reports.model import OUTCOMES, worst
from tests.local import serving


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    return serving.make_suite(tmp_path)


@pytest.fixture
def server(tmp_path: Path, suite: Path):
    with serving.serve(
        tmp_path, "--interval", "0.2", *serving.run_args(tmp_path, suite)
    ) as running:
        yield running


def outcome_cells(server: serving.Server) -> dict[tuple[str, str], dict[str, float]]:
    """Each host x check's value of every outcome."""
    cells: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for sample in server.metrics()["hostkit_check_outcome"]:
        cell = (sample.labels["host"], sample.labels["check"])
        cells[cell][sample.labels["outcome"]] = sample.value
    return dict(cells)


def current(server: serving.Server, check: str, host: str = "local://") -> str | None:
    cell = outcome_cells(server).get((host, check), {})
    on = [outcome for outcome, value in cell.items() if value == 1]
    return on[0] if len(on) == 1 else None


def test_metrics_are_the_runs_report_per_host_and_check(tmp_path, suite, server):
    server.wait_runs(1)
    doc = serving.report(tmp_path, suite)  # the same suite, run apart: the oracle
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for result in doc["results"]:
        found[(result["host"], result["check"])].append(result["outcome"])
    assert found == {("local://", "t.always"): ["passed"], ("local://", "t.flip"): ["failed"]}

    cells = outcome_cells(server)
    assert set(cells) == set(found)
    for cell, outcomes in found.items():
        # Every outcome is a series (a state set, as node_exporter's unit states): 1 for
        # the cell's outcome, the worst of its results, 0 for the others.
        assert cells[cell] == {o: float(o == worst(outcomes)) for o in OUTCOMES}, cell
    severities = {
        s.labels["check"]: s.labels["severity"] for s in server.metrics()["hostkit_check_outcome"]
    }
    assert severities == {"t.always": "warning", "t.flip": "error"}
    assert server.value("hostkit_host_unreachable", host="local://") == 0
    assert server.value("hostkit_last_run_success") == 1
    assert server.value("hostkit_last_run_exit_code") == 1  # t.flip fails: non-compliant
    assert 0 < server.value("hostkit_last_run_duration_seconds") < 60
    assert abs(server.value("hostkit_last_run_timestamp_seconds") - time.time()) < 60
    assert server.value("hostkit_runs_total", result="failed") == 0


def test_a_check_that_flips_between_runs_flips_in_the_metrics(suite, server):
    server.wait_runs(1)
    assert current(server, "t.flip") == "failed"
    (suite / "flip").write_text("on\n")
    serving.wait_for("t.flip passes", lambda: current(server, "t.flip") == "passed")
    (suite / "flip").unlink()
    serving.wait_for("t.flip fails again", lambda: current(server, "t.flip") == "failed")
    assert current(server, "t.always") == "passed"
    # Read-only: nothing was fixed, and the file stays gone.
    assert server.value("hostkit_fixes_applied_total", host="local://", check="t.flip") in (
        None,
        0,
    )
    assert not (suite / "flip").exists()


def test_a_check_no_longer_run_leaves_no_series(suite, server):
    server.wait_runs(1)
    assert current(server, "t.always") == "passed"
    (suite / "profiles" / "tiny.yaml").write_text("checks: [t.flip]\n")
    serving.wait_for(
        "t.always gone", lambda: set(outcome_cells(server)) == {("local://", "t.flip")}
    )


def test_healthz_is_ok_once_a_run_completed(server):
    server.wait_runs(1)
    status, body = server.get("/healthz")
    assert status == 200
    assert body.startswith("ok: the last run completed ")
    assert server.get("/nothing")[0] == 404


def test_a_run_that_crashes_is_a_metric_and_a_log_line_not_a_dead_server(tmp_path, suite):
    # A check module that kills its run's process outright, as an OOM kill would.
    (suite / "conftest.py").write_text(
        "import os, pathlib\n"
        "if pathlib.Path(__file__).with_name('crash').exists():\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    (suite / "crash").touch()
    args = ["--interval", "0.1", "--stale-after", "1", *serving.run_args(tmp_path, suite)]
    with serving.serve(tmp_path, *args) as server:
        serving.wait_for(
            "two failed runs", lambda: server.value("hostkit_runs_total", result="failed") >= 2
        )
        assert server.value("hostkit_last_run_success") == 0
        assert "hostkit serve: run 1 failed: killed by signal 9 (SIGKILL)" in server.text()
        assert server.proc.poll() is None
        serving.wait_for("/healthz says stale", lambda: server.get("/healthz")[0] == 503)
        assert server.get("/healthz")[1].startswith("stale: no run completed since ")

        (suite / "crash").unlink()
        serving.wait_for("a run completes", lambda: server.value("hostkit_last_run_success") == 1)
        assert server.get("/healthz")[0] == 200
        assert current(server, "t.always") == "passed"


def test_fix_mode_counts_the_fixes_and_the_next_run_passes(tmp_path, suite):
    args = ["--interval", "0.2", "--fix", *serving.run_args(tmp_path, suite)]
    with serving.serve(tmp_path, *args) as server:
        server.wait_runs(2)
        assert (suite / "flip").read_text() == "on\n"
        assert server.value("hostkit_fixes_applied_total", host="local://", check="t.flip") == 1
        assert current(server, "t.flip") == "passed"  # the run after the fix
        (suite / "flip").unlink()
        serving.wait_for(
            "a second fix",
            lambda: (
                server.value("hostkit_fixes_applied_total", host="local://", check="t.flip") == 2
            ),
        )


def test_sigterm_stops_the_server_and_its_processes(server):
    server.wait_runs(1)
    kids = serving.children(server.proc.pid)
    assert kids  # the warm process the runs are forked from
    assert server.stop() == 0
    assert "hostkit serve: stopped" in server.text()
    for pid in kids:
        serving.wait_for(f"process {pid} gone", lambda pid=pid: not Path(f"/proc/{pid}").exists())


def test_a_bad_run_option_is_found_by_the_first_run_and_is_exit_4(tmp_path, suite):
    args = [*serving.run_args(tmp_path, suite), "--profile=no-such-profile"]
    res = subprocess.run(
        [sys.executable, "-m", "kit.cli", "serve", "--listen", "127.0.0.1:0", *args],
        cwd=tmp_path,
        env=serving.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert res.returncode == 4, res.stderr
    assert "no-such-profile" in res.stderr
    assert res.stderr.splitlines()[-1] == (
        "hostkit serve: error: the first run was refused (exit 4): its options are wrong"
    )


def test_memory_after_200_runs_is_within_10_percent_of_after_20(tmp_path, suite):
    """Each run is a process forked for it; the server keeps only the last run's series."""
    args = ["--interval", "0", *serving.run_args(tmp_path, suite)]
    with serving.serve(tmp_path, *args) as server:
        pid = server.proc.pid
        server.wait_runs(20, timeout=120)
        # What stays beside the server: the warm process runs are forked from. A run's own
        # process comes and goes, and is not the server's to keep.
        warm = set(serving.children(pid))
        time.sleep(1)
        warm &= set(serving.children(pid))
        assert warm

        def rss() -> int:
            return serving.rss_kib(pid) + sum(serving.rss_kib(k) for k in warm)

        after_20, started = rss(), time.monotonic()
        # From here t.flip passes: its series change value, as a fleet's do.
        (suite / "flip").write_text("on\n")
        server.wait_runs_going(200)
        after_200, took = rss(), time.monotonic() - started
        print(
            f"RSS after 20 runs {after_20} KiB, after 200 {after_200} KiB; {took / 180:.2f}s a run"
        )
        assert after_200 <= after_20 * 1.10, (after_20, after_200)
        assert server.value("hostkit_runs_total", result="failed") == 0
        assert server.stop() == 0


def test_a_port_in_use_is_one_clear_error_and_exit_4(tmp_path, suite):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = subprocess.run(
            [sys.executable, "-m", "kit.cli", "serve", "--listen", f"127.0.0.1:{port}"],
            cwd=tmp_path,
            env=serving.env(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert res.returncode == 4
    assert res.stderr.splitlines() == [
        f"hostkit serve: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
