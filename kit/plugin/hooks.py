"""The hostkit pytest plugin: the hooks pytest calls, each handing over to the module that
owns the work. The entry point (`pytest11` in pyproject.toml) names this module.

testinfra's plugin stays loaded; hostkit reuses its options (--hosts, --ssh-config,
--ssh-identity-file, --sudo, --sudo-user) and its `host` fixture, and makes every
ssh, paramiko, local and ansible host it names go through a hostkit connection
(kit.plugin.backend); hosts of testinfra's other backends stay on them (kit.plugin.theirs).

| module | owns |
|---|---|
| options | the command-line options and ini values |
| rootdir | the rootdir and ini file as they are with the plugins' options known |
| runsetup | the run set up from its options: hosts, profiles, waivers, its plugins |
| planning | which profile each host checks against |
| collection | parametrizing, selecting and ordering each host's checks; shards, waves |
| warmup | connecting every host and gathering its facts before its checks |
| fixentry | what becomes of a failed check: its fix under --fix |
| checkreport | each check's outcome, warning, waiver or unreachable host |
| summary | the tally, the exit status and the terminal summary |
| fixtures | `conn`, `facts` and `runner` |
| runstate | what the plugin keeps for the run |
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from kit.plugin import (
    checkreport,
    collection,
    fixentry,
    options,
    rootdir,
    runsetup,
    summary,
    warmup,
)
from kit.plugin.fixtures import conn, facts, runner
from kit.plugin.runstate import STATE

# pytest finds a plugin's fixtures among the module's names.
__all__ = ["conn", "facts", "runner"]

# -- options and configuration -------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add_options(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, args: list[str]) -> None:
    # The first hook after pytest knows hostkit's options: `--known-hosts FILE` stops
    # counting FILE as a path before anything uses the rootdir (kit.plugin.rootdir).
    rootdir.settle(early_config, args)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    runsetup.configure(config)


def pytest_report_header(config: pytest.Config) -> list[str]:
    return runsetup.header(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    runsetup.unconfigure(config)


# -- xdist ----------------------------------------------------------------------------


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """Workers record their fixes under the controller's run id, and learn whether their
    hosts are shared out at the start (kit.plugin.scheduling), so they can connect to them early."""
    node.workerinput["hostkit_run_id"] = node.config.stash[STATE].run_id
    node.workerinput["hostkit_shares"] = node.config.getvalue("dist") in ("load", "loadscope")


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: as many workers as repay their start-up (kit.plugin.workers), maybe none."""
    from kit.plugin import workers  # loads only for -n auto

    return workers.for_auto(config)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getvalue("dist") not in ("load", "loadscope"):
        return None
    from kit.plugin.scheduling import HostScheduling  # loads only under -n

    return HostScheduling(config, log, [c.label for c in config.stash[STATE].registry])


# -- collection -----------------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    collection.parametrize(metafunc)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    collection.select_and_order(config, items)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    warmup.after_collection(session)


# -- running checks and fixes -----------------------------------------------------------


def pytest_runtest_setup(item: pytest.Item) -> None:
    checkreport.connect_first(item)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, Any, Any]:
    return (yield from fixentry.around_call(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report: pytest.TestReport = yield
    checkreport.outcome_of(item, call, report)
    return report


# -- reporting --------------------------------------------------------------------------


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    return checkreport.status_word(report)


def pytest_sessionstart(session: pytest.Session) -> None:
    summary.start(session)


def pytest_sessionfinish(session: pytest.Session) -> None:
    summary.finish(session)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    summary.write(terminalreporter, config)
