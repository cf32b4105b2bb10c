"""Where a run's reports go: a link, a FIFO or standard output is written through and stays
what it was; a path the run could not write is a usage error before any host is contacted."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.plugin.outcomes import EXIT_USAGE
from tests.plugin.fixruns import state_dirs

ROOT = Path(__file__).resolve().parents[2]

CHECKS = """
from kit.catalog.check import check

@check("t.ok", "always holds")
def test_ok(conn):
    assert conn.run("true").ok
"""


@pytest.fixture(autouse=True)
def this_checkout(monkeypatch):
    """The runs import the kit beside these tests, whichever copy is installed."""
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )


@pytest.fixture
def suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_checks=CHECKS)


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--hosts=local://", *state_dirs(pytester), *args
    )


def report_of(text: str) -> dict:
    doc = json.loads(text)
    assert [r["check"] for r in doc["results"]] == ["t.ok"]
    return doc


def test_a_symlinked_report_path_writes_the_target_and_keeps_the_link(pytester, suite):
    target = pytester.path / "kept" / "real.json"
    target.parent.mkdir()
    target.write_text("old")
    link = pytester.path / "run.json"
    link.symlink_to(target)
    result = run(pytester, f"--report-json={link}", "--report-html=page.html")
    assert result.ret == 0, result.stdout.str()
    assert link.is_symlink() and os.readlink(link) == str(target)
    report_of(target.read_text())
    # Nothing else was left beside either: no temporary file, no second report.
    assert sorted(p.name for p in target.parent.iterdir()) == ["real.json"]


def test_a_fifo_report_path_is_written_into_and_stays_a_fifo(pytester, suite):
    fifo = pytester.path / "run.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as pipe:
            got.append(pipe.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    result = run(pytester, f"--report-json={fifo}")
    if reader.is_alive():
        # The run did not open the FIFO: let the reader go before failing.
        with open(fifo, "wb"):
            pass
    reader.join(10)
    assert result.ret == 0, result.stdout.str()
    assert fifo.is_fifo()
    report_of(got[0].decode())


def test_a_link_to_standard_output_writes_the_report_into_the_run_output(pytester, suite):
    # /dev/stdout is such a link; this one is made here so that a failure replaces only it.
    link = pytester.path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    result = run(pytester, f"--report-json={link}", "-q")
    assert result.ret == 0, result.stdout.str()
    assert link.is_symlink()
    text = result.stdout.str()
    report_of(text[text.index("{") : text.rindex("}") + 1])
    # The run's own output is all still there around it.
    result.stdout.fnmatch_lines(["*local://*compliant*", "*1 passed*"])


def test_a_dash_writes_the_report_to_standard_output(pytester, suite):
    result = run(pytester, "--report-json=-", "-q")
    assert result.ret == 0, result.stdout.str()
    assert not (pytester.path / "-").exists()
    # Standard output is the report alone; the terminal's lines go to standard error.
    report_of(result.stdout.str())
    result.stderr.fnmatch_lines(["*hostkit report --report-json: wrote standard output*"])


def test_two_reports_to_standard_output_are_one_usage_line(pytester, suite):
    result = run(pytester, "--report-json=-", "--report-html=-")
    assert result.ret == EXIT_USAGE
    result.stderr.fnmatch_lines(["ERROR: --report-json and --report-html both name -*"])


@pytest.fixture
def listener() -> Iterator[tuple[int, list[tuple[str, int]]]]:
    """A loopback port that counts who connects to it (and hangs up on them)."""
    contacts: list[tuple[str, int]] = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, peer = server.accept()
            except TimeoutError:
                continue
            contacts.append(peer)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], contacts
    done.set()
    thread.join(5)
    server.close()


@pytest.mark.parametrize(
    "option",
    [
        "--report-json=/proc/nope/r.json",
        "--report-html=/proc/r.html",
        "--junitxml=/proc/nope/j.xml",
    ],
    ids=["json-under-proc", "html-in-proc", "junit-under-proc"],
)
def test_an_unwritable_report_path_stops_the_run_before_any_host_is_contacted(
    pytester, suite, listener, option
):
    port, contacts = listener
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--hosts=ssh://127.0.0.1:{port}", *state_dirs(pytester), option
    )
    assert result.ret == EXIT_USAGE, result.stdout.str()
    flag, _, path = option.partition("=")
    result.stderr.fnmatch_lines([f"ERROR: {flag} {path}: *"])
    assert len([ln for ln in result.stderr.lines if ln.strip()]) == 1, result.stderr.str()
    assert contacts == []
