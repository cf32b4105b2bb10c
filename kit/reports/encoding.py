"""Test reports made encodable before anything writes, prints or sends them.

A check's message can hold lone surrogates (a file's bytes decoded with surrogateescape,
a string from a loader), which neither UTF-8 files nor xdist's channel accept: pytest's
JUnit writer, the kit's reports and a worker's report to its controller would all fail.
The first logreport hook to run, on workers and on the controller, replaces them.
"""

from __future__ import annotations

import re

import pytest

from kit import encodable


class EncodableReports:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        make_encodable(self.config, report)


# repr() shows a surrogate as its escape: one search over a report's texts finds any. A
# backslash written before "ud8" in a message matches too, and costs a needless pass only.
_ESCAPED = re.compile(r"\\ud[89a-f][0-9a-f]{2}")


def make_encodable(config: pytest.Config, report: pytest.TestReport) -> None:
    # Every check's every phase comes here: a passing one costs two calls.
    suspect = _ESCAPED.search(repr((report.nodeid, report.user_properties, report.sections)))
    if not suspect and report.longrepr is not None:
        suspect = encodable.found_in(str(report.longrepr))
    if not suspect:
        return
    # pytest's own (de)serialisation, as xdist uses it, reaches every string of the
    # report: the traceback entries, the crash message, sections and properties.
    data = config.hook.pytest_report_to_serializable(config=config, report=report)
    clean = config.hook.pytest_report_from_serializable(config=config, data=encodable.data(data))
    vars(report).update(vars(clean))
