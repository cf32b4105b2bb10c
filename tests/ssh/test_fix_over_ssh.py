"""--fix over a real sshd when the connection dies in the middle of a fix: reported once
for the host, the step in flight on record, no further fixes on that host."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.ssh import sshd

SUITE = """
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files, journal, lifeline

@remediation(strategy="configure", disruption="low")
def cut(target):
    files.write_file(target.conn, FIRST, "new\\n", sudo=True)
    session = lifeline.read(target.conn).holder()
    with journal.live_step(target.conn, "end the session"):
        target.conn.run("kill -KILL %s", str(session.pid), sudo=True)

@check("t.cut", "a fix that loses its connection", fix=cut)
def test_a_cut(conn):
    assert conn.run("cat %s", FIRST).stdout == "done\\n"

@remediation(strategy="configure", disruption="low")
def after(target):
    return files.write_file(target.conn, SECOND, "x\\n", sudo=True)

@check("t.after", "a fix on the same host, later", fix=after)
def test_b_after(conn):
    assert conn.run("cat %s", SECOND).ok
"""


def test_a_connection_lost_mid_fix_is_reported_once_and_recorded(pytester, server, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_text("old\n")
    tmp_path.chmod(0o777)
    pytester.makepyfile(test_cut=f"FIRST = {str(first)!r}\nSECOND = {str(second)!r}\n" + SUITE)
    runs = tmp_path / "runs"
    result = pytester.runpytest_subprocess(
        f"--hosts={server.spec(sshd.NOPASSWD_USER)}",
        f"--known-hosts={server.known_hosts}",
        f"--ssh-identity-file={server.client_key}",
        "--fix",
        "-o",
        f"hostkit_runs_dir={runs}",
        "-o",
        f"hostkit_lock_dir={tmp_path / 'lock'}",
        "--junitxml=junit.xml",
    )
    assert result.ret == 1
    out = result.stdout.str()
    lost = "connection lost during the fix, at end the session"
    assert [line for line in section(out, "fixes that failed") if lost in line] != []
    assert len(section(out, "fixes that failed")) == 1
    messages = failure_messages(pytester.path / "junit.xml")
    assert lost in messages["test_a_cut"] and lost not in messages["test_b_after"]
    result.stdout.fnmatch_lines(["*fix held back: the connection was lost during an earlier fix*"])
    assert not second.exists()
    assert first.read_text() in ("old\n", "new\n")  # whole, never half
    (log,) = runs.glob("*/journal")
    steps = [json.loads(line) for line in log.read_text().splitlines()]
    in_flight = [s for s in steps if s.get("op") == "end the session"]
    assert [s["state"] for s in in_flight] == ["begin"]
    assert not any(s.get("event") == "end" for s in steps)


def section(out: str, title: str) -> list[str]:
    """The lines of one titled section of pytest's terminal report; the report's width varies
    with the terminal, so sections are found by their title, not by counting a message."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if re.fullmatch(rf"=+ {title} =+", line))
    rest = lines[start + 1 :]
    end = next((i for i, line in enumerate(rest) if re.fullmatch(r"=+ .* =+", line)), len(rest))
    return rest[:end]


def failure_messages(path: Path) -> dict[str, str]:
    """Each failed or errored test case's message in a JUnit report, by its name without the
    host (a fix that failed makes its check an error, as the host table counts it)."""
    messages = {}
    for case in ET.parse(path).iter("testcase"):
        failure = case.find("failure")
        failure = failure if failure is not None else case.find("error")
        if failure is not None:
            messages[case.get("name", "").split("[")[0]] = failure.get("message", "")
    return messages
