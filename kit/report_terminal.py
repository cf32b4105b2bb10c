"""What reaches the terminal and JUnit beyond pytest's own lines: warnings and waivers
made visible."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from _pytest.junitxml import xml_key

from kit import outcomes
from kit.outcomes import prop


class JUnitWarnings:
    """Gives a warned or waived check's test case a `<system-out>` line, so CI tools show it.

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
        xml.node_reporter(report).append(node)
