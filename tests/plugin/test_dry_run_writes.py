"""--dry-run holds whatever a remediation passes: one that forgets dry_run writes nothing.

The remediations here run on this machine, against files in a temporary directory, with
the run's record and lock there too.
"""

from __future__ import annotations

import pytest

from tests.plugin.fixruns import fix_run as run
from tests.plugin.fixruns import junit as props

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

def _read(conn, path):
    res = conn.run("cat -- %s", path)
    return res.stdout if res.ok else None

@remediation(strategy="configure", disruption="low")
def forgets_dry_run(target, path):
    return files.write_file(target.conn, path, "fixed\\n")

@check("t.forgets", "a file the fix writes", fix=forgets_dry_run)
@pytest.mark.parametrize("path", [FILE], ids=["forgets"])
def test_forgets(conn, path):
    assert _read(conn, path) == "fixed\\n", "not fixed yet"

@remediation(strategy="configure", disruption="low")
def runs_a_command(target, path):
    target.conn.run("touch %s", path)

@check("t.command", "a file a command makes", fix=runs_a_command)
@pytest.mark.parametrize("path", [TOUCHED], ids=["command"])
def test_command(conn, path):
    assert _read(conn, path) is not None, "not there yet"

@remediation(strategy="disable", disruption="high")
def held_back(target, path):
    \"\"\"Replace the file, disruptively.\"\"\"
    return files.write_file(target.conn, path, "fixed\\n")

@check("t.held", "a fix above the limit", fix=held_back)
@pytest.mark.parametrize("path", [HELD], ids=["held"])
def test_held(conn, path):
    assert _read(conn, path) == "fixed\\n", "not fixed yet"

@remediation(strategy="configure", disruption="low")
def careful(target, path):
    return files.write_file(target.conn, path, "fixed\\n", dry_run=target.dry_run)

@check("t.careful", "a fix that passes dry_run", fix=careful)
@pytest.mark.parametrize("path", [CAREFUL], ids=["careful"])
def test_careful(conn, path):
    assert _read(conn, path) == "fixed\\n", "not fixed yet"
"""


@pytest.fixture
def paths(pytester: pytest.Pytester, tmp_path):
    found = {n: tmp_path / n.lower() for n in ("FILE", "TOUCHED", "HELD", "CAREFUL")}
    found["FILE"].write_text("original\n")
    found["HELD"].write_text("original\n")
    header = "".join(f"{name} = {str(path)!r}\n" for name, path in found.items())
    pytester.makepyfile(test_checks=header + CHECKS)
    return found


def test_a_remediation_that_forgets_dry_run_writes_nothing_and_is_named(pytester, paths):
    result = run(pytester, "--dry-run", "-k", "forgets")
    assert paths["FILE"].read_text() == "original\n"
    assert result.ret == 1
    line = f"fix cannot be planned: while planning, remediation tried to write: put {paths['FILE']}"
    result.stdout.fnmatch_lines(["*not fixed yet*", f"*{line}*"])
    assert "Traceback" not in result.stdout.str()
    (case,) = props(pytester).values()
    assert case["outcome"] == ["failed"]
    assert case["planned"] == [line]


def test_a_command_sent_with_run_while_planning_is_refused(pytester, paths):
    result = run(pytester, "--dry-run", "-k", "command")
    assert not paths["TOUCHED"].exists()
    assert result.ret == 1
    wrote = f"touch {paths['TOUCHED']}"
    result.stdout.fnmatch_lines([f"*fix cannot be planned: *remediation tried to write: {wrote}"])


def test_planning_a_held_back_fix_writes_nothing(pytester, paths):
    """Held back fixes are planned to say what they would do, --dry-run or not."""
    result = run(pytester, "-k", "held")
    assert paths["HELD"].read_text() == "original\n"
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*fix needs --max-disruption=high: Replace the file, disruptively.*"]
    )


def test_a_careful_remediation_still_plans_and_the_same_one_still_fixes(pytester, paths):
    planned = run(pytester, "--dry-run", "-k", "careful")
    assert planned.ret == 1 and not paths["CAREFUL"].exists()
    (case,) = props(pytester).values()
    assert case["planned"][0].startswith(f"{paths['CAREFUL']}: would be created")
    fixed = run(pytester, "-k", "careful or forgets")
    assert fixed.ret == 0
    assert paths["CAREFUL"].read_text() == paths["FILE"].read_text() == "fixed\n"
