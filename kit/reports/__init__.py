"""Run reports for people and tools: --report-json and --report-html.

The plugin calls `add_options` and `configure`; everything else happens here. Reports
are built on the process that receives every test report (under xdist, the controller)
and written once, at the end of the session, as kit/reports/output.py says.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kit.errors import KitValueError
from kit.reports import output
from kit.reports.encoding import EncodableReports
from kit.reports.model import CHECK_ATTR, Host, Recorder, Run, check_of
from kit.reports.output import Destination


def _render_json(run: Run) -> str:
    from kit.reports import json_report

    return json_report.render(run)


def _render_html(run: Run) -> str:
    # jinja2 and the page template load only for a run that writes the page.
    from kit.reports import html_report

    return html_report.render(run)


FORMATS: dict[str, tuple[str, Callable[[Run], str]]] = {
    "hostkit_report_json": ("--report-json", _render_json),
    "hostkit_report_html": ("--report-html", _render_html),
}


def add_options(group: Any) -> None:
    group.addoption(
        "--report-json",
        dest="hostkit_report_json",
        metavar="PATH",
        help="write the run as one JSON document (schema: kit/reports/schema/report-v1.json)",
    )
    group.addoption(
        "--report-html",
        dest="hostkit_report_html",
        metavar="PATH",
        help="write a self-contained HTML page: a hosts x checks matrix of outcomes",
    )


# The destinations check_paths found usable, by option dest ("xmlpath" for --junitxml).
_CHECKED = pytest.StashKey[dict[str, Destination]]()


def check_paths(config: pytest.Config) -> None:
    """Check every report path now, so a bad one stops the run before any host is contacted.

    --junitxml is checked with the kit's own reports: pytest writes it, at the end. Under
    xdist the controller checks; its workers write no report.
    """
    if hasattr(config, "workerinput"):
        return
    found: dict[str, Destination] = {}
    junit = _junit_path(config)
    if junit:
        found["xmlpath"] = output.check("--junitxml", junit, stdout_ok=False)
    for dest, (flag, _) in FORMATS.items():
        raw = config.getoption(dest)
        if raw:
            found[dest] = output.check(flag, raw)
    seen: dict[str, str] = {}
    for where in found.values():
        if where.key in seen:
            raise KitValueError(
                f"{seen[where.key]} and {where.flag} both name {where.key}: give each its own"
            )
        seen[where.key] = where.flag
    config.stash[_CHECKED] = found


def _junit_path(config: pytest.Config) -> str | None:
    if config.option.xmlpath:
        # As pytest's junitxml plugin reads the option.
        return os.path.expanduser(os.path.expandvars(config.option.xmlpath))
    default = config.getini("hostkit_junit")
    return str(config.rootpath / default) if default else None


def configure(config: pytest.Config, state: Any) -> None:
    """Make every test report encodable, and register the report writers when the run
    asks for a report.

    `state` is the plugin's run state: its registry, profile plan and fix settings
    say which hosts, profiles and mode the reports name.
    """
    config.pluginmanager.register(EncodableReports(config), "hostkit-encodable-reports")
    if not any(config.getoption(dest) for dest in FORMATS):
        return
    if _CHECKED not in config.stash and not hasattr(config, "workerinput"):
        check_paths(config)
    checked = config.stash.get(_CHECKED, {})
    wanted = {dest: where for dest, where in checked.items() if dest in FORMATS}
    config.pluginmanager.register(Reports(config, state, wanted), "hostkit-reports")


class Reports:
    def __init__(self, config: pytest.Config, state: Any, paths: dict[str, Destination]) -> None:
        self.controller = not hasattr(config, "workerinput")
        self.state = state
        self.paths = paths
        self.recorder = Recorder()
        self.written: list[str] = []

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Iterator[Any]:
        report: pytest.TestReport = yield
        # Report attributes travel from xdist workers to the controller; items do not.
        setattr(report, CHECK_ATTR, check_of(item))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.controller:
            self.recorder.add(report)

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if not self.controller:
            return
        mode = _mode(self.state)
        run_id = self.state.run_id if mode == "fix" else None
        run = self.recorder.run(
            mode, _hosts(self.state), _profiles(self.state), run_id, _waivers(self.state)
        )
        for dest, where in self.paths.items():
            flag, render = FORMATS[dest]
            try:
                output.write(where, render(run))
            except OSError as exc:
                self.written.append(f"{flag}: cannot write {where}: {exc.strerror or exc}")
            else:
                self.written.append(f"{flag}: wrote {where}")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for line in self.written:
            terminalreporter.write_sep("-", f"hostkit report {line}")


def _mode(state: Any) -> str:
    if not state.fix:
        return "check"
    return "dry-run" if state.settings.dry_run else "fix"


def _hosts(state: Any) -> list[Host]:
    return [Host(c.label, state.plan.for_label(c.label).name or None) for c in state.registry]


def _waivers(state: Any) -> list[dict[str, Any]]:
    accepted = getattr(state, "waivers", None)
    if accepted is None:
        return []
    return [w.to_dict(accepted.today) for w in accepted.entries]


def _profiles(state: Any) -> list[str]:
    names = [h.profile for h in _hosts(state) if h.profile]
    return list(dict.fromkeys(names)) or [p.name for p in state.plan.all()[:1] if p.name]
