"""A remediation learns the run's --max-disruption through its Target, for disruption that
depends on the host (restarting containerd where containers run is high, issue 23)."""

from __future__ import annotations

import pytest

from tests.plugin.fixruns import fix_run

CHECKS = """
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

@remediation(strategy="configure", disruption="low")
def note_limit(target):
    return files.write_file(target.conn, OUT, target.max_disruption + "\\n", dry_run=target.dry_run)

@check("t.limit", "the fix sees the run's limit", fix=note_limit)
def test_limit(conn):
    assert conn.run("test -e %s", OUT).ok, "not written yet"
"""


@pytest.mark.parametrize("limit", ["low", "medium", "high"])
def test_the_fix_sees_the_runs_max_disruption(pytester, tmp_path, limit):
    out = tmp_path / "limit"
    pytester.makepyfile(test_checks=f"OUT = {str(out)!r}\n" + CHECKS)
    fix_run(pytester, f"--max-disruption={limit}")
    assert out.read_text() == f"{limit}\n"
