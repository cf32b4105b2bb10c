"""Running the catalog (`pytest checks`) against a disposable host, as an operator would."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Case:
    outcome: str
    fixes: list[str]
    message: str


@dataclass
class Run:
    ret: int
    output: str
    cases: dict[str, Case]

    def outcome_of(self, prefix: str) -> set[str]:
        return {c.outcome for name, c in self.cases.items() if name.startswith(prefix)}

    def failing(self) -> set[str]:
        return {n for n, c in self.cases.items() if c.outcome in ("failed", "warning", "error")}


def run(
    host,
    tmp_path: Path,
    name: str,
    *extra: str,
    select: str | None = None,
    suite: Path | None = None,
) -> Run:
    """One compliance run against host; extra pytest arguments such as --fix.

    suite: a directory of checks of the test's own, run from there; the catalog by default.
    """
    report = tmp_path / f"{name}.xml"
    args = command(host, report, suite, *extra)
    if select:
        args += ["-k", select]
    cwd = suite if suite is not None else ROOT
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=900, check=False)
    return read(report, proc.returncode, proc.stdout + proc.stderr)


def command(host, report: Path, suite: Path | None, *extra: str) -> list[str]:
    """The pytest command line of a run against host."""
    opts = host.connect_options
    return [
        sys.executable,
        "-m",
        "pytest",
        str(suite) if suite is not None else "checks",
        "-p",
        "no:cacheprovider",
        "-q",
        f"--hosts={host.spec}",
        f"--known-hosts={opts['known_hosts']}",
        f"--ssh-identity-file={opts['identity_file']}",
        f"--junitxml={report}",
        *extra,
    ]


def read(report: Path, ret: int, output: str) -> Run:
    if not report.exists():
        # A run that ended before pytest wrote its report: its output says why.
        raise AssertionError(f"no report from the run (exit {ret}):\n{output}")
    cases = {}
    for case in ET.parse(report).iter("testcase"):
        props = [(p.get("name"), p.get("value")) for p in case.iter("property")]
        outcome = next((v for k, v in reversed(props) if k == "outcome"), "")
        # A check whose fix failed is an error, as every check that raised other than its
        # assertion; its message is read the same way.
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        message = (
            (failure.get("message", "") + "\n" + (failure.text or ""))
            if failure is not None
            else ""
        )
        message += next((v for k, v in props if k == "message"), "")
        cases[case.get("name")] = Case(outcome, [v for k, v in props if k == "fix"], message)
    assert cases, output
    return Run(ret, output, cases)
