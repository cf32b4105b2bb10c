"""What reaches the terminal and JUnit beyond pytest's own lines: warnings and waivers
made visible, errors counted as errors, and the checks of a host the run could not look at
left to the host's one line."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from _pytest.junitxml import xml_key

from kit.plugin import checkreport, outcomes
from kit.plugin.fix import FILE_DIFF
from kit.plugin.outcomes import prop
from kit.printable import printable


class JUnitWarnings:
    """Gives a warned or waived check's test case a `<system-out>` line, so CI tools show it
    (a warning's with what to do by hand on a second line).

    The `outcome` property alone leaves a warning or a waiver looking like a pass to a JUnit
    viewer; a waived check is still no failure there, as it fails nothing in the run.
    Runs after pytest's JUnit writer has opened the test case for the report.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        outcome = prop(report.user_properties, "outcome")
        if outcome not in (outcomes.WARNING, outcomes.WAIVED):
            return
        xml = self.config.stash.get(xml_key, None)
        if xml is None:
            return
        check = prop(report.user_properties, "check_id") or report.nodeid
        message = prop(report.user_properties, "message") or ""
        node = ET.Element("system-out")
        if outcome == outcomes.WAIVED:
            why = prop(report.user_properties, "waiver") or ""
            node.text = f"waived: {check}: {why}; found: {message}"
        else:
            node.text = f"warning: {check}: {message}"
            by_hand = prop(report.user_properties, "by_hand")
            if by_hand is not None:
                node.text += f"\nby hand: {by_hand}"
        xml.node_reporter(report).append(node)


class JUnitErrors:
    """Makes a check that raised something other than its assertion an `<error>` in JUnit,
    as pytest's last line and the host table count it (kit.plugin.checkreport.status_word),
    not the `<failure>` pytest's JUnit writer makes of any exception in a test's call.

    Runs after that writer has added the failure to the test case.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call" or not report.failed or not checkreport.counted_as_error(report):
            return
        xml = self.config.stash.get(xml_key, None)
        if xml is None:
            return
        nodes = xml.node_reporter(report).nodes
        failure = next((n for n in reversed(nodes) if n.tag == "failure"), None)
        if failure is None:
            return
        failure.tag = "error"
        xml.stats["failure"] -= 1
        xml.stats["error"] += 1


class Collapsed:
    """Leaves the checks of a host the run could not look at (unreachable, sudo refused) out
    of pytest's error blocks and short summary: the host's one line in the summary says
    why, and what fixes it. They stay errors in pytest's counts and in JUnit.

    Outermost around pytest's own summary, so the errors are back in its statistics before
    it counts them for its last line.
    """

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> Any:
        stats = terminalreporter.stats
        errors = stats.get("error")
        if not errors:
            return (yield)
        stats["error"] = [r for r in errors if not _collapsed(r)]
        try:
            return (yield)
        finally:
            stats["error"] = errors


def _collapsed(report: Any) -> bool:
    # A collection error is no check: it has no user properties and keeps its block.
    return isinstance(report, pytest.TestReport) and checkreport.collapsed(report)


class JUnitVerdicts:
    """Gives the JUnit report's test suite each host's verdict, as a property
    `hostkit_verdict[HOST]`, from the tally the terminal's table shows.

    Runs before pytest's JUnit writer writes the file at the end of the session.
    """

    def __init__(self, config: pytest.Config, tally: outcomes.Tally) -> None:
        self.config = config
        self.tally = tally

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self) -> None:
        xml = self.config.stash.get(xml_key, None)
        if xml is None:
            return
        for host in sorted(self.tally.by_host):
            xml.add_global_property(f"hostkit_verdict[{host}]", self.tally.verdict(host))


def index_teardown_reports(config: pytest.Config) -> None:
    """Let the failure summary find a failed check's teardown reports by id, not by a scan.

    pytest looks for each failure's teardown output by scanning every passed setup and
    teardown report of the run, so a run with failures on many hosts pays, per check, once
    for every failure. The index answers the same question, built once from the same list
    (again only if reports arrive after it). A pytest without that method keeps its own.
    """
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is None or not callable(getattr(tr, "_get_teardown_reports", None)):
        return
    index: dict[str, list[Any]] = {}
    indexed = -1

    def teardown_reports(nodeid: str) -> list[Any]:
        nonlocal indexed
        if indexed != len(tr.stats.get("", ())):
            index.clear()
            indexed = len(tr.stats.get("", ()))
            for report in tr.getreports(""):
                if report.when == "teardown":
                    index.setdefault(report.nodeid, []).append(report)
        return list(index.get(nodeid, ()))

    tr._get_teardown_reports = teardown_reports


_FUTURE = {"created": "would create", "changed": "would change"}


class FileDiffs:
    """Each host's changed files, one diff per file from its content before the run to
    what the run's fixes left (or, under --dry-run, would leave) in it.

    Every fix reports the files it touched, each diffed from the run's start; the last
    report of a path holds the whole change. Collected where reports arrive (under
    xdist, the controller), so a host's files are shown once whichever worker fixed it.
    """

    def __init__(self) -> None:
        self.by_host: dict[str, dict[str, tuple[str, str]]] = {}  # host -> path -> verb, diff

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "call":
            return
        host = prop(report.user_properties, "host")
        for key, value in report.user_properties:
            if key != FILE_DIFF or host is None:
                continue
            head, _, diff = str(value).partition("\n")
            verb, _, path = head.partition(" ")
            self.by_host.setdefault(host, {})[path] = (verb, diff)

    def write(self, tr: Any, *, dry_run: bool) -> None:
        """Each diff once, after the hosts it applies to (a fleet's hosts mostly get the same
        change); in the future tense for a dry run."""
        hosts_of: dict[tuple[str, str, str], list[str]] = {}  # (path, verb, diff) -> hosts
        for host, files in self.by_host.items():
            for path, (verb, diff) in files.items():
                if diff:
                    hosts_of.setdefault((path, verb, diff), []).append(host)
        if not hosts_of:
            return
        tr.section("files the fixes would change" if dry_run else "files the fixes changed")
        for (path, verb, diff), hosts in hosts_of.items():
            said = _FUTURE.get(verb, verb) if dry_run else verb
            # The paths and the files' content are the host's: shown escaped.
            tr.line(printable(f"{_hosts(hosts)}: {said} {path}"))
            for line in diff.splitlines():
                tr.line("    " + printable(line))


_NAMED_HOSTS = 10  # a diff names this many of its hosts, then counts the rest


def _hosts(hosts: list[str]) -> str:
    more = len(hosts) - _NAMED_HOSTS
    named = ", ".join(hosts[:_NAMED_HOSTS])
    return f"{named} and {more} more hosts" if more > 0 else named


class HostProgress:
    """Gives each host its own progress line in pytest's default output, named by the host.

    pytest starts a line per test file; a hostkit run is ordered host by host, so a line
    per host says which host the run is on, and its dots and letters which of its checks.
    -q and -v already say what they mean to (nothing; every test id, which names the host),
    and under xdist hosts run side by side, so those keep pytest's own lines.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.hosts: dict[str, str] = {}  # nodeid -> host label
        self.current: str | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        tr = self.config.pluginmanager.get_plugin("terminalreporter")
        if tr is None or not tr.showfspath or tr.showlongtestinfo:
            return
        hosts = {item.nodeid: prop(item.user_properties, "host") for item in session.items}
        if len(set(hosts.values()) - {None}) > 1:
            self.hosts = {nodeid: host for nodeid, host in hosts.items() if host is not None}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_logstart(self, nodeid: str, location: Any) -> Any:
        host = self.hosts.get(nodeid)
        moved = host is not None and host != self.current
        tr = self.config.pluginmanager.get_plugin("terminalreporter") if moved else None
        if tr is not None and tr.currentfspath is not None:
            # No file has this path: pytest ends its line, percentage and all, and starts one.
            tr.currentfspath = _NEXT_HOST
        result = yield
        if tr is not None:
            self.current = host
            tr.write(f"[{host}] ")
        return result


_NEXT_HOST = Path("\0next host")
