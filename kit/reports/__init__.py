"""Run reports for people and tools: --report-json and --report-html.

The plugin calls `add_options` and `configure`; everything else happens here. Reports
are built on the process that receives every test report (under xdist, the controller)
and written once, at the end of the session, each file atomically.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kit.reports.model import CHECK_ATTR, Host, Recorder, Run, check_of


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


def configure(config: pytest.Config, state: Any) -> None:
    """Check the report paths now, so a bad one stops the run before any host is touched.

    `state` is the plugin's run state: its registry, profile plan and fix settings
    say which hosts, profiles and mode the reports name.
    """
    wanted = {
        dest: _usable(flag, config.getoption(dest))
        for dest, (flag, _) in FORMATS.items()
        if config.getoption(dest)
    }
    if not wanted:
        return
    seen: dict[Path, str] = {}
    if config.option.xmlpath:
        seen[Path(config.option.xmlpath).absolute()] = "--junitxml"
    for dest, path in wanted.items():
        flag = FORMATS[dest][0]
        if path in seen:
            raise pytest.UsageError(f"{seen[path]} and {flag} both name {path}: give each its own")
        seen[path] = flag
    config.pluginmanager.register(Reports(config, state, wanted), "hostkit-reports")


def _usable(flag: str, raw: str) -> Path:
    path = Path(raw).expanduser().absolute()
    if path.is_dir():
        raise pytest.UsageError(f"{flag} {raw}: is a directory; give a file name")
    existing = path.parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise pytest.UsageError(f"{flag} {raw}: {existing} is a file, not a directory")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise pytest.UsageError(f"{flag} {raw}: {existing} is not writable")
    return path


def write_atomic(path: Path, text: str) -> None:
    """A reader of the path sees the previous report or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    umask = os.umask(0)
    os.umask(umask)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class Reports:
    def __init__(self, config: pytest.Config, state: Any, paths: dict[str, Path]) -> None:
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
        for dest, path in self.paths.items():
            flag, render = FORMATS[dest]
            try:
                write_atomic(path, render(run))
            except OSError as exc:
                self.written.append(f"{flag}: cannot write {path}: {exc.strerror or exc}")
            else:
                self.written.append(f"{flag}: wrote {path}")

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
