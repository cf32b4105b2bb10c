"""Each check run in a process of its own, forked from a warm one, its report read back.

A run is `hostkit check` (or `fix`) made by pytest.main in a process forked for it from a
fork server that has pytest and the plugin imported (multiprocessing's "forkserver": a
single-threaded process started once, so forking it is safe while the server's HTTP
threads run). The run's memory goes with its process; the server keeps only what it reads
of the run's JSON report (kit/reports/json_report.py) in a private directory, read with
the kit's reader (kit.report). A run that fails to start, crashes or writes no report is
a RunResult with its reason, never an exception out of here.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

# The kit's reader of --report-json documents, as `hostkit report merge` reads them.
from kit import report as reader
from kit.cli.codes import COMPLIANT, NON_COMPLIANT, UNREACHABLE
from kit.printable import printable
from kit.reports.model import Run

COMPLETED = (COMPLIANT, NON_COMPLIANT, UNREACHABLE)  # a verdict, and a report written
LOG_TAIL = 20  # lines of a failed run's output in the server's log
# Options every run gets: no .pytest_cache written where the server runs, every interval.
RUN_OPTIONS = ("-p", "no:cacheprovider")


@dataclass
class RunResult:
    exit_code: int | None  # None: killed by a signal, or never started
    duration: float
    finished: float  # time.time() at its end
    run: Run | None = None  # the run's report; None when it wrote none
    problem: str | None = None  # why it did not complete

    @property
    def completed(self) -> bool:
        return self.run is not None


class Runner:
    """Makes runs of the given options, one at a time."""

    def __init__(self, pytest_args: list[str]) -> None:
        """pytest_args: a run's, as `hostkit check` or `fix` makes them (kit.cli.main)."""
        self.args = [*pytest_args, *RUN_OPTIONS]
        self._dir = Path(tempfile.mkdtemp(prefix="hostkit-serve-"))  # mode 0700
        self._ctx = multiprocessing.get_context("forkserver")
        self._ctx.set_forkserver_preload(["kit.serve.child"])
        self._current: multiprocessing.process.BaseProcess | None = None
        # Reentrant: the signal handler that stops a run may interrupt this thread holding it.
        self._lock = threading.RLock()
        self._stopping = False
        self._interrupted: multiprocessing.process.BaseProcess | None = None

    @property
    def report_path(self) -> Path:
        return self._dir / "report.json"

    @property
    def log_path(self) -> Path:
        return self._dir / "run.log"

    def run(self) -> RunResult:
        from kit.serve import child

        start = time.monotonic()
        self.report_path.unlink(missing_ok=True)  # a run that writes none is not the last one
        args = [*self.args, f"--report-json={self.report_path}"]
        try:
            proc = self._ctx.Process(target=child.run, args=(args, str(self.log_path)))
            with self._lock:
                if self._stopping:
                    return self._result(start, None, "not started: stopping")
                proc.start()
                self._current = proc
            if self._stopping:  # a stop that came while it started
                self.stop()
            proc.join()
        except OSError as exc:
            return self._result(start, None, f"did not start: {exc}")
        finally:
            with self._lock:
                self._current = None
        code = proc.exitcode
        if code is None or code < 0:
            signo = -(code or 0)
            name = signal.Signals(signo).name if signo in signal.valid_signals() else "?"
            return self._result(start, None, f"killed by signal {signo} ({name})")
        if code not in COMPLETED:
            return self._result(start, code, f"exit {code}")
        try:
            doc = reader.read_json(self.report_path)
        except reader.BadReport as exc:
            return self._result(start, code, f"exit {code}, and no report: {exc}")
        return self._result(start, code, None, reader.run_of(doc))

    def _result(
        self, start: float, code: int | None, problem: str | None, run: Run | None = None
    ) -> RunResult:
        return RunResult(code, time.monotonic() - start, time.time(), run, problem)

    def output_tail(self) -> str:
        """The last lines of the last run's output, made safe to log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(printable(line) for line in text.splitlines()[-LOG_TAIL:])

    def stop(self) -> None:
        """Interrupt the run under way as Ctrl-C would (pytest's KeyboardInterrupt, so a
        fix flow's cleanup runs), and start no other."""
        with self._lock:
            self._stopping = True
            proc = self._current
            # Once: a second Ctrl-C would cut short the cleanup the first one started.
            if proc is not None and proc.pid is not None and proc is not self._interrupted:
                self._interrupted = proc
                os.kill(proc.pid, signal.SIGINT)

    def close(self) -> None:
        for path in (self.report_path, self.log_path):
            path.unlink(missing_ok=True)
        self._dir.rmdir()
