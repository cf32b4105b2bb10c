"""What a run tells the operator about itself beside its results: where its terminal output
goes when a report takes standard output, a profile named where no checks were collected,
and the id of a --fix run, which `hostkit runs undo` takes."""

from __future__ import annotations

from typing import Any

import pytest

from kit.connection.quoting import join
from kit.reports import FORMATS
from kit.reports.output import STDOUT

NOTHING = pytest.StashKey[str]()  # why a run that named a profile collected no check
GIVEN_HOSTS = pytest.StashKey[str]()  # --hosts as the operator gave it


class TerminalToStderr:
    """With `--report-json -` (or `--report-html -`), the report alone is standard output:
    a pipe to `jq` reads a document, and the terminal's lines go to standard error."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        import sys

        from _pytest.config import create_terminal_writer

        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            # Before the terminal's own sessionstart (trylast), so its header moves too.
            reporter._tw = create_terminal_writer(session.config, sys.stderr)


def configure(config: pytest.Config) -> None:
    """Move the terminal to standard error when a report is written to standard output."""
    if hasattr(config, "workerinput"):
        return
    if any(config.getoption(dest) == STDOUT for dest in FORMATS):
        config.pluginmanager.register(TerminalToStderr(), "hostkit-terminal-to-stderr")


def nothing_collected(session: pytest.Session) -> str | None:
    """Why a run that named a profile collected no check, and what to run instead; None
    for any other run (plain pytest and testinfra keep pytest's "no tests ran")."""
    config = session.config
    name = config.getoption("hostkit_profile")
    if not name or session.testscollected or hasattr(config, "workerinput"):
        return None
    where = config.invocation_params.dir
    return (
        f"no checks collected in {where} for profile {name}: run the shipped catalog with "
        f"`hostkit check --profile {name} ...` "
        "(or `python -m pytest --pyargs hostkit_catalog.checks ...`), "
        "or name the directory of your checks"
    )


def say_nothing_collected(terminalreporter: Any, message: str) -> None:
    """The error line in place of pytest's closing "no tests ran", which would contradict
    the profile the run was given."""
    terminalreporter.write_line(f"ERROR: {message}", red=True)

    def closing() -> None:
        terminalreporter.write_sep("=", "nothing to check: see the error above", red=True)

    terminalreporter.summary_stats = closing


def undo_line(config: pytest.Config, run_id: str, changed: bool) -> str:
    """The --fix run's id, with the command that puts back what it changed."""
    if not changed:
        return f"hostkit run {run_id}: nothing changed, so no host records it"
    args = ["hostkit", "runs"]
    inventory = config.getoption("hostkit_inventory")
    if inventory:
        args.append(f"--inventory={inventory}")
    hosts = config.stash.get(GIVEN_HOSTS, "")
    if hosts:
        args.append(f"--hosts={hosts}")
    return f"hostkit run {run_id}: undo it with: {join([*args, 'undo', run_id])}"
