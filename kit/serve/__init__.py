"""`hostkit serve`: check on an interval, serve the verdicts as Prometheus metrics.

    hostkit serve [--interval SECONDS] [--listen ADDR:PORT] [--fix] [--stale-after SECONDS]
                  [RUN OPTIONS...]

Every RUN OPTION is `hostkit check`'s (`--hosts`, `--profile`, a directory of checks...);
with --fix each run is `hostkit fix`. The modules:

| module | owns |
|---|---|
| options | serve's own options, checked before anything starts |
| runs | each run in a process forked for it, and its report read back |
| child | what that process runs: pytest.main |
| metrics | the last run as metrics, and /healthz's judgement |
| http | /metrics and /healthz |

This module is the loop: a run, its metrics, a log line, the interval, until SIGTERM (or
SIGINT), which interrupts the run under way and stops the server with exit 0.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from types import FrameType

from prometheus_client import CollectorRegistry, ProcessCollector

from kit.cli import codes
from kit.serve import http, metrics, options, runs

LOG = logging.getLogger("hostkit serve")
PytestArgs = Callable[[str, Sequence[str]], list[str]]


def main(argv: Sequence[str], prog: str, pytest_args: PytestArgs) -> int:
    """pytest_args: how `hostkit check` and `fix` make a run's arguments (kit.cli.main,
    which calls this: given, not imported, so the two do not import each other)."""
    opts = options.parse(argv, prog)  # a mistake exits USAGE here, with nothing started
    _log_to_stderr()
    return _serve(opts, pytest_args("fix" if opts.fix else "check", opts.run_args))


def _serve(opts: options.Options, run_args: list[str]) -> int:
    state = metrics.State(opts.stale_after)
    registry = CollectorRegistry()
    registry.register(metrics.RunCollector(state))
    ProcessCollector(registry=registry)  # the server's own memory and CPU, as process_*
    try:
        listener = http.Listener(opts.host, opts.port, http.app(registry, state))
    except OSError as exc:
        print(
            f"hostkit serve: error: cannot listen on {opts.host}:{opts.port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return codes.USAGE
    runner = runs.Runner(run_args)
    stop = threading.Event()

    def on_signal(signo: int, _frame: FrameType | None) -> None:
        LOG.info("%s: stopping", signal.Signals(signo).name)
        stop.set()
        runner.stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    listener.start()
    mode = "fixing (--fix)" if opts.fix else "read-only"
    LOG.info("listening on %s; %s, a run every %gs", listener.url, mode, opts.interval)
    try:
        number = 0
        while not stop.is_set():
            number += 1
            result = runner.run()
            if stop.is_set() and not result.completed:
                break  # interrupted by the stop: not a failed run
            state.record(result)
            _log(number, result, runner)
            if number == 1 and result.exit_code == codes.USAGE:
                print(
                    f"hostkit serve: error: the first run was refused (exit {codes.USAGE}): "
                    "its options are wrong",
                    file=sys.stderr,
                )
                return codes.USAGE
            stop.wait(opts.interval)
    finally:
        listener.close()
        runner.close()
    LOG.info("stopped")
    return codes.COMPLIANT


def _log(number: int, result: runs.RunResult, runner: runs.Runner) -> None:
    if result.run is None:
        tail = runner.output_tail()
        LOG.warning(
            "run %d failed: %s after %.2fs%s",
            number,
            result.problem,
            result.duration,
            f"; its last lines:\n{tail}" if tail else "",
        )
        return
    verdicts = Counter(h.verdict for h in result.run.hosts)
    fixes = sum(f.status == "applied" for r in result.run.results for f in r.fixes)
    LOG.info(
        "run %d: exit %s in %.2fs: %s%s",
        number,
        result.exit_code,
        result.duration,
        ", ".join(f"{n} {verdict}" for verdict, n in sorted(verdicts.items())) or "no hosts",
        f"; fixes applied: {fixes}" if fixes else "",
    )


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False
