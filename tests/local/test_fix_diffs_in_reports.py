"""An applied fix keeps its own diff in the JSON and HTML reports, as in JUnit and the
terminal: the report is the audit trail of what --fix changed. Real fixes on this machine,
writing only under the test's directory."""

from __future__ import annotations

import html
import json

from tests.plugin.fixruns import report_run

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files


@remediation(strategy="configure", disruption="low")
def write_setting(target, path, line):
    return files.write_file(target.conn, path, line + "\\n", dry_run=target.dry_run)


@check("t.setting", "the setting is in its file", fix=write_setting)
@pytest.mark.parametrize("path,line", [(PATH, "vm.swappiness = 1")], ids=["swappiness"])
def test_setting(conn, path, line):
    assert conn.run("grep -qx %s %s", line, path).ok, f"{path} lacks {line}"
"""


def test_an_applied_fix_has_its_diff_in_json_and_html(pytester, tmp_path):
    conf = tmp_path / "99-setting.conf"
    conf.write_text("vm.swappiness = 60\n")
    pytester.makepyfile(test_checks=f"PATH = {str(conf)!r}\n" + CHECKS)
    result = report_run(pytester, "--fix")
    assert result.ret == 0, result.stdout.str()
    assert conf.read_text() == "vm.swappiness = 1\n"
    (found,) = json.loads((pytester.path / "run.json").read_text())["results"]
    assert found["outcome"] == "fixed"
    (fix,) = found["fixes"]
    assert fix["status"] == "applied" and fix["summary"].startswith(str(conf))
    diff = fix["diff"]
    assert diff is not None, fix
    assert "-vm.swappiness = 60" in diff.splitlines() and "+vm.swappiness = 1" in diff.splitlines()
    assert str(conf) in diff
    # The HTML page carries the same diff for the cell's detail (as JSON inside the page).
    page = html.unescape((pytester.path / "run.html").read_text())
    assert "+vm.swappiness = 1" in page and "-vm.swappiness = 60" in page
