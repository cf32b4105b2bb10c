"""What a host sent reaches the terminal with its control characters escaped: a check's
message, a warning, a fix's error and summary, a changed file's diff, and the record of an
earlier run that did not finish. A host may be compromised; its escape sequences must not
retitle, clear or rewrite the operator's terminal."""

from __future__ import annotations

import json
import re

from tests.plugin.fixruns import fix_run, state_dirs

# C0 but the newline that ends pytest's own lines, DEL and C1.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")
ESC = "\\x1b"  # how the escape character is shown

CHECKS = r"""
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

def _host_says(conn, text):
    # Printed by the host, as a compromised one would.
    return conn.run("printf %s", text).stdout

@check("t.says", "the host's answer is shown escaped")
def test_says(conn):
    found = _host_says(conn, "\033]0;pwned\007 cleared\033[2J")
    assert found == "ok", f"found {found}"

@check("t.warns", "a warning's message is shown escaped", severity="warning")
def test_warns(conn):
    found = _host_says(conn, "\033[8mhidden")
    assert found == "ok", f"found {found}"

@remediation(strategy="configure", disruption="low")
def write_hostile(target, path):
    return files.write_file(target.conn, path, "\033[31mred\033[0m\n", dry_run=target.dry_run)

@check("t.diff", "a changed file's diff is shown escaped", fix=write_hostile)
@pytest.mark.parametrize("path", [TARGET], ids=["diff"])
def test_diff(conn, path):
    assert conn.run("cat -- %s", path).stdout == "\033[31mred\033[0m\n"

@remediation(strategy="configure", disruption="low")
def explode(target):
    raise RuntimeError("host said " + _host_says(target.conn, "\033[1A\033[Kforged"))

@check("t.explode", "a fix's error is shown escaped", fix=explode)
def test_explode(conn):
    assert False, "never passes"
"""


def unfinished_run(pytester) -> None:
    """An earlier run's record, cut short, whose step holds escape sequences."""
    run = pytester.path / "runs" / "20200101T000000Z-dead"
    (run / "files").mkdir(parents=True)
    entries = [
        {"event": "start", "run": run.name, "time": "t"},
        {"seq": 1, "state": "begin", "check": "t.x\x1b[2J", "op": "restart \x1b]0;pwned\x07"},
    ]
    (run / "journal").write_text("".join(json.dumps(e) + "\n" for e in entries))


def test_a_check_run_shows_what_hosts_sent_escaped(pytester):
    pytester.makepyfile(test_checks="TARGET = '/nonexistent'\n" + CHECKS)
    result = pytester.runpytest_subprocess("--hosts=local://", "-k", "says or warns", "-rA")
    out = result.stdout.str()
    assert not CONTROL.search(out), out
    assert f"found {ESC}]0;pwned\\x07 cleared{ESC}[2J" in out
    assert f"found {ESC}[8mhidden" in out  # in the warnings section


def test_a_fix_run_shows_what_hosts_sent_escaped(pytester, tmp_path):
    target = tmp_path / "target"
    pytester.makepyfile(test_checks=f"TARGET = {str(target)!r}\n" + CHECKS)
    unfinished_run(pytester)
    result = fix_run(pytester, "-k", "diff or explode", "-v")
    out = result.stdout.str()
    assert target.read_text() == "\x1b[31mred\x1b[0m\n"  # the host got what the fix wrote
    assert not CONTROL.search(out), out
    assert f"+{ESC}[31mred{ESC}[0m" in out  # the diff
    assert f"host said {ESC}[1A{ESC}[Kforged" in out  # the fix's error
    assert f"restart {ESC}]0;pwned\\x07 for t.x{ESC}[2J" in out  # the earlier run


def test_a_dry_run_plan_shows_the_diff_escaped(pytester, tmp_path):
    pytester.makepyfile(test_checks=f"TARGET = {str(tmp_path / 'target')!r}\n" + CHECKS)
    result = pytester.runpytest_subprocess(
        "--hosts=local://", "--fix", "--dry-run", "-k", "diff", *state_dirs(pytester)
    )
    out = result.stdout.str()
    assert not CONTROL.search(out), out
    assert f"+{ESC}[31mred{ESC}[0m" in out
