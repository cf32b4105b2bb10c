"""The run's summary: its outcomes tallied per host where reports arrive (under xdist, the
controller), the exit status they give, and the terminal summary.

The tally and its per-host table are kit.plugin.outcomes; what else reaches the terminal
and JUnit (warnings, waivers, file diffs, the host progress lines) is kit.plugin.terminal.
"""

from __future__ import annotations

from typing import Any

import pytest

from kit.plugin import outcomes, runnotes
from kit.plugin import terminal as report_terminal
from kit.plugin.runstate import SHARD, STATE, RunState

FILE_DIFFS = "hostkit-file-diffs"


def start(session: pytest.Session) -> None:
    """Register the tally, and on the process that writes reports, the terminal's and
    JUnit's additions."""
    state: RunState = session.config.stash[STATE]
    terminal = session.config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None and (not terminal.showheader or terminal.no_header):
        # The header says it otherwise; an expired waiver is news even under -q.
        for waiver in state.waivers.expired():
            terminal.write_line(waiver.expiry_line())
    session.config.pluginmanager.register(outcomes.Collector(state.tally), "hostkit-tally")
    if not hasattr(session.config, "workerinput"):
        junit = report_terminal.JUnitWarnings(session.config)
        session.config.pluginmanager.register(junit, "hostkit-junit-warnings")
        errors = report_terminal.JUnitErrors(session.config)
        session.config.pluginmanager.register(errors, "hostkit-junit-errors")
        session.config.pluginmanager.register(report_terminal.Collapsed(), "hostkit-collapsed")
        verdicts = report_terminal.JUnitVerdicts(session.config, state.tally)
        session.config.pluginmanager.register(verdicts, "hostkit-junit-verdicts")
        session.config.pluginmanager.register(report_terminal.FileDiffs(), FILE_DIFFS)
        session.config.pluginmanager.register(report_terminal.HostProgress(session.config))
        report_terminal.index_teardown_reports(session.config)


def finish(session: pytest.Session) -> None:
    """Set the run's exit status: see kit.plugin.outcomes for the codes."""
    # A shard that gets no host (more shards than hosts) ran what it was given: nothing.
    no_tests = session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED
    if no_tests and SHARD in session.config.stash:
        session.exitstatus = pytest.ExitCode.OK
    state = session.config.stash.get(STATE, None)
    if state is not None and not hasattr(session.config, "workerinput"):
        session.exitstatus = state.tally.exit_status(int(session.exitstatus), session.testsfailed)
    nothing = runnotes.nothing_collected(session) if no_tests else None
    if nothing and SHARD not in session.config.stash:
        session.config.stash[runnotes.NOTHING] = nothing
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


def write(terminalreporter: Any, config: pytest.Config) -> None:
    """The per-host table and what the fixes did; each changed file's diff with --dry-run
    or -v."""
    state = config.stash.get(STATE, None)
    nothing = config.stash.get(runnotes.NOTHING, None)
    if nothing:
        runnotes.say_nothing_collected(terminalreporter, nothing)
    if state is not None:
        if state.fix and not state.settings.dry_run and state.tally.by_host:
            changed = bool(state.tally.fixes or state.tally.failed_fixes)
            terminalreporter.section("hostkit fix run")
            terminalreporter.line(runnotes.undo_line(config, state.run_id, changed))
        outcomes.write_summary(terminalreporter, state.tally)
        diffs = config.pluginmanager.get_plugin(FILE_DIFFS)
        if diffs is not None and (state.settings.dry_run or state.settings.verbose):
            diffs.write(terminalreporter, dry_run=state.settings.dry_run)
