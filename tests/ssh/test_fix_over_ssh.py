"""--fix over a real sshd when the connection dies in the middle of a fix: reported once
for the host, the step in flight on record, no further fixes on that host."""

from __future__ import annotations

import json

from tests.ssh import sshd

SUITE = """
from kit.check import check
from kit.remediation import remediation
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
    assert out.count("connection lost during the fix, at end the session") == 2  # E line, summary
    result.stdout.fnmatch_lines(["*fix held back: the connection was lost during an earlier fix*"])
    assert not second.exists()
    assert first.read_text() in ("old\n", "new\n")  # whole, never half
    (log,) = runs.glob("*/journal")
    steps = [json.loads(line) for line in log.read_text().splitlines()]
    in_flight = [s for s in steps if s.get("op") == "end the session"]
    assert [s["state"] for s in in_flight] == ["begin"]
    assert not any(s.get("event") == "end" for s in steps)
