"""What the plugin tests of --fix share: runs on this machine whose record and lock live
under the pytester directory, and the JUnit properties they report."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET

import pytest


def state_dirs(pytester: pytest.Pytester) -> list[str]:
    runs, lock = pytester.path / "runs", pytester.path / "lock"
    return ["-o", f"hostkit_runs_dir={runs}", "-o", f"hostkit_lock_dir={lock}"]


def report_run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """A run against this machine writing JUnit, JSON and HTML into the test's directory."""
    return pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--hosts=local://",
        "--junitxml=junit.xml",
        "--report-json=run.json",
        "--report-html=run.html",
        *state_dirs(pytester),
        *args,
    )


def fix_args(pytester: pytest.Pytester, *args: str) -> list[str]:
    """A --fix run of this machine, reporting to junit.xml."""
    return ["--junitxml=junit.xml", "--hosts=local://", "--fix", *state_dirs(pytester), *args]


def fix_run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(*fix_args(pytester, *args))


def junit(pytester: pytest.Pytester, name: str = "junit.xml") -> dict[str, dict[str, list[str]]]:
    """Each test case's properties, every value of each name."""
    cases = {}
    for case in ET.parse(pytester.path / name).iter("testcase"):
        props: dict[str, list[str]] = {}
        for prop in case.iter("property"):
            props.setdefault(prop.get("name"), []).append(prop.get("value"))
        cases[case.get("name")] = props
    return cases


def closed_ports(count: int) -> list[int]:
    """Loopback ports nothing listens on: bound once to be given out, then closed."""
    socks = [socket.socket() for _ in range(count)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in socks]
    for sock in socks:
        sock.close()
    return ports
