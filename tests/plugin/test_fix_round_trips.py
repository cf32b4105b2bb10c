"""What a --fix run sends a host for its record and lock: no command that could be
another's part. Counted on the local connection, every command it runs kept in order."""

from __future__ import annotations

import pytest

from kit.connection.local import LocalConnection
from tests.plugin.fixruns import fix_args

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

@remediation(strategy="configure", disruption="low")
def write_both(target, path):
    return [
        files.write_file(target.conn, path + ".a", "a\\n", dry_run=target.dry_run),
        files.write_file(target.conn, path + ".b", "b\\n", dry_run=target.dry_run),
    ]

def _read(conn, path):
    res = conn.run("cat -- %s", path)
    return res.stdout if res.ok else None

@check("t.both", "both files hold their content", fix=write_both)
@pytest.mark.parametrize("path", PATHS)
def test_both(conn, path):
    assert (_read(conn, path + ".a"), _read(conn, path + ".b")) == ("a\\n", "b\\n")
"""


@pytest.fixture
def sent(monkeypatch) -> list[str]:
    """Every command line the run's local connections ran, in order."""
    lines: list[str] = []
    real = LocalConnection._exec

    def counting(self, cmdline, *, stdin, timeout):
        lines.append(cmdline)
        return real(self, cmdline, stdin=stdin, timeout=timeout)

    monkeypatch.setattr(LocalConnection, "_exec", counting)
    return lines


def fix_two(pytester: pytest.Pytester, tmp_path, sent: list[str]) -> list[str]:
    """A --fix of two checks, each fixed by writing two files: what it sent."""
    paths = [str(tmp_path / "one"), str(tmp_path / "two")]
    pytester.makepyfile(test_checks=f"PATHS = {paths!r}\n" + CHECKS)
    res = pytester.runpytest_inprocess(*fix_args(pytester), "-p", "no:cacheprovider")
    assert res.ret == 0, res.stdout.str()
    assert "2 fixed" in res.stdout.str()
    return sent


def test_the_lock_is_taken_and_the_record_opened_in_one_command(pytester, tmp_path, sent):
    lines = fix_two(pytester, tmp_path, sent)
    takes = [c for c in lines if "flock -w 10 9" in c and "mktemp fix.owner" in c]
    opens = [c for c in lines if '"event": "start"' in c]
    assert len(takes) == 1 and takes == opens, (takes, opens)
    # Taken before the record opens: the record is this run's only once the host is its.
    assert takes[0].index("mktemp fix.owner") < takes[0].index('"event": "start"')


def test_the_record_is_closed_and_the_lock_released_in_one_command(pytester, tmp_path, sent):
    lines = fix_two(pytester, tmp_path, sent)
    ends = [c for c in lines if '"event": "end"' in c]
    releases = [c for c in lines if 'read run rest < "$o"' in c]
    assert len(ends) == 1 and ends == releases, (ends, releases)
    # Closed before the lock goes: the record is complete while the host is still ours.
    assert ends[0].index('"event": "end"') < ends[0].index('read run rest < "$o"')


def test_a_step_is_recorded_done_with_the_next_steps_begin(pytester, tmp_path, sent):
    """Four file steps in two fixes: each step's begin is a command before its write; a
    step's done rides with the next step's begin, and the fix's last one ends the fix."""
    lines = fix_two(pytester, tmp_path, sent)
    begins = [n for n, c in enumerate(lines) if '"state": "begin"' in c]
    dones = [n for n, c in enumerate(lines) if '"state": "done"' in c]
    assert len(begins) == 4, [lines[n][:80] for n in begins]
    assert len(dones) == 4, [lines[n][:80] for n in dones]
    assert (dones[0], dones[2]) == (begins[1], begins[3])
    # Recorded done first, then the next step begun; the fix's last done before the next fix.
    for n in (begins[1], begins[3]):
        assert lines[n].index('"state": "done"') < lines[n].index('"state": "begin"')
    assert begins[1] < dones[1] < begins[2] and dones[3] > begins[3]
    # Each write follows its begin: the file is saved and the step on record first.
    for first, then in zip(begins, [*begins[1:], len(lines)], strict=True):
        assert any("mv -f" in c for c in lines[first + 1 : then]), lines[first:then]


def test_the_lock_names_its_holder_without_a_read_of_its_own(pytester, tmp_path, sent):
    """The process whose life bounds the connection (here: the controller) is found by the
    command that takes the lock: the lock names it, and nothing else is sent to find it."""
    lines = fix_two(pytester, tmp_path, sent)
    assert not [c for c in lines if "printf 'proc" in c.replace("'\"'\"'", "'")]
    (take,) = [c for c in lines if "mktemp fix.owner" in c]
    assert take.index("/proc/") < take.index("mktemp fix.owner")
