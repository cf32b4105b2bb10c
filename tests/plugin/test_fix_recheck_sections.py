"""After a fix, the re-check gathers the sections of the facts its check read, not the
whole answer; a later check reading a field the fix may have changed gathers that field's
sections again, lazily. Counted on the local connection: the sections each facts gather
answered with, in order."""

from __future__ import annotations

import pytest

from kit.connection.local import LocalConnection
from kit.facts import sections
from kit.facts.parse import split_sections
from tests.plugin.fixruns import fix_args

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

@remediation(strategy="configure", disruption="low")
def record_ostype(target, marker, made):
    # What the check compares facts.sysctls with, and a file a later check probes.
    return [
        files.write_file(target.conn, marker, "Linux\\n", dry_run=target.dry_run),
        files.write_file(target.conn, made, "x\\n", dry_run=target.dry_run),
    ]

def _read(conn, path):
    res = conn.run("cat -- %s", path)
    return res.stdout.strip() if res.ok else None

@check("t.a.os", "the OS is known")
def test_a_os(facts):
    assert facts.os.id != "unknown"

@check("t.b.sysctl", "kernel.ostype is what the marker says", fix=record_ostype)
@pytest.mark.parametrize("marker,made", [(MARKER, MADE)])
def test_b_sysctl(facts, conn, marker, made):
    assert facts.sysctls.get("kernel.ostype") == _read(conn, marker)

@check("t.c.made", "the file the fix made exists", reads_file="path")
@pytest.mark.parametrize("path", [MADE])
def test_c_made(facts, path):
    assert facts.files[path] is not None, facts.files

@check("t.d.os", "the OS is still known")
def test_d_os_again(facts):
    assert facts.os.id != "unknown"
"""


@pytest.fixture
def gathers(monkeypatch) -> list[set[str]]:
    """The sections each facts gather of the run answered with, in order."""
    found: list[set[str]] = []
    real = LocalConnection._exec

    def counting(self, cmdline, *, stdin, timeout):
        rc, out, err = real(self, cmdline, stdin=stdin, timeout=timeout)
        if "hostkit-facts" in cmdline:
            found.append(set(split_sections(out.decode())) - {"end"})
        return rc, out, err

    monkeypatch.setattr(LocalConnection, "_exec", counting)
    return found


@pytest.mark.parametrize("pool", [[], ["--fix-parallel=1"]], ids=["host-thread", "pytest-loop"])
def test_the_recheck_gathers_what_its_check_read(pytester, tmp_path, gathers, pool):
    marker, made = tmp_path / "marker", tmp_path / "made"
    pytester.makepyfile(test_checks=f"MARKER = {str(marker)!r}\nMADE = {str(made)!r}\n" + CHECKS)
    res = pytester.runpytest_inprocess(*fix_args(pytester, *pool), "-p", "no:cacheprovider")
    out = res.stdout.str()
    assert res.ret == 0, out
    assert "1 fixed" in out and "3 passed" in out, out
    # The first check's gather is the whole answer; after the fix each is of a few sections.
    assert gathers[0] >= sections.ALL - {"files", "packages"}
    assert gathers[1:] == [
        # The re-check of t.b.sysctl: facts.sysctls only, not t.a.os's os-release.
        {"sysctls"},
        # t.c.made reads facts.files, which the fix may have changed: gathered fresh
        # (the part of the script answering the probes prints the packages' too).
        {"files", "packages"},
        # t.d.os reads facts.os: the fix may have changed it too (nothing says what a fix
        # changes), so it is gathered again, alone.
        {"os-release"},
    ]


FAILING = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation

@remediation(strategy="configure", disruption="low")
def half_way(target, made):
    # A change no journal step records (so none puts it back), then a failure.
    target.conn.run("touch -- %s", made).check()
    raise RuntimeError("failed half-way")

@check("t.a.fails", "a check whose fix fails half-way", fix=half_way)
@pytest.mark.parametrize("made", [MADE])
def test_a_fails(facts, made):
    assert facts.os.id == "never"

@check("t.b.made", "the file the failed fix made", reads_file="path")
@pytest.mark.parametrize("path", [MADE])
def test_b_made(facts, path):
    assert facts.files[path] is not None, facts.files
"""


def test_a_fix_that_failed_half_way_leaves_later_checks_fresh_facts(pytester, tmp_path, gathers):
    made = tmp_path / "made"
    pytester.makepyfile(test_checks=f"MADE = {str(made)!r}\n" + FAILING)
    res = pytester.runpytest_inprocess(*fix_args(pytester), "-p", "no:cacheprovider")
    out = res.stdout.str()
    assert made.exists()
    assert "1 passed" in out and "1 error" in out, out
    assert gathers[1:] == [{"files", "packages"}]
