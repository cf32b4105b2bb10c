"""--dry-run shows the plan --fix would carry out: per host, one diff per file from what it
holds now to what all the host's fixes would leave in it; a real --fix -v shows the same.

Two sysctl fixes share one sysctl.d file in a temporary directory. Each sets its key to the
live value, so the fix is a file edit only and a real --fix changes nothing but that file.
"""

from __future__ import annotations

import json

import pytest

from kit.connection import connect
from kit.runner.kernel import get_sysctl
from tests.plugin.fixruns import fix_run as run
from tests.plugin.fixruns import junit as props
from tests.plugin.test_output import section

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import kernel


@remediation(strategy="configure", disruption="low")
def persist(target, key, value):
    return kernel.set_sysctl(
        target.conn, None, key, value, managed_file=MANAGED, dirs=[DIR], dry_run=target.dry_run
    )


def _persisted(conn, key, value):
    res = conn.run("cat -- %s", MANAGED)
    return res.ok and f"{key} = {value}" in res.stdout.splitlines()


@check("t.forward", "forwarding persists", fix=persist)
@pytest.mark.parametrize("key,value", [("net.ipv4.ip_forward", FORWARD)], ids=["forward"])
def test_forward(conn, key, value):
    assert _persisted(conn, key, value), f"{key} not persisted"


@check("t.pidmax", "pid_max persists", fix=persist)
@pytest.mark.parametrize("key,value", [("kernel.pid_max", PIDMAX)], ids=["pidmax"])
def test_pidmax(conn, key, value):
    assert _persisted(conn, key, value), f"{key} not persisted"
"""


@pytest.fixture
def managed(pytester: pytest.Pytester, tmp_path):
    confs = tmp_path / "sysctl.d"
    confs.mkdir()
    path = confs / "99-hostkit.conf"
    path.write_text("# kept\nvm.swappiness = 10\n")
    with connect("local://") as conn:
        live = {k: get_sysctl(conn, k) for k in ("net.ipv4.ip_forward", "kernel.pid_max")}
    header = (
        f"MANAGED = {str(path)!r}\nDIR = {str(confs)!r}\n"
        f"FORWARD = {live['net.ipv4.ip_forward']!r}\nPIDMAX = {live['kernel.pid_max']!r}\n"
    )
    pytester.makepyfile(test_checks=header + CHECKS)
    return path, live


def test_two_sysctls_in_one_file_are_one_diff_in_the_future_tense(pytester, managed):
    path, live = managed
    before = path.read_bytes()
    result = run(pytester, "--dry-run", "--report-json=report.json")
    assert result.ret == 1
    assert path.read_bytes() == before
    out = result.stdout.str()
    lines = section(out, "files the fixes would change")
    assert lines[0] == f"local://: would change {path}"
    assert [ln.strip() for ln in lines].count(f"+++ {path}") == 1
    added = [ln.strip() for ln in lines if ln.strip().startswith("+") and "=" in ln]
    assert added == [
        f"+net.ipv4.ip_forward = {live['net.ipv4.ip_forward']}",
        f"+kernel.pid_max = {live['kernel.pid_max']}",
    ]
    assert out.count(f"--- {path}") == 1, out
    # Each fix's own diff, in the reports, is its change on top of the one before it.
    second = props(pytester)["test_pidmax[local://-pidmax]"]["planned"][0]
    assert f" net.ipv4.ip_forward = {live['net.ipv4.ip_forward']}" in second.splitlines()
    assert "+kernel.pid_max" in second and "+net.ipv4.ip_forward" not in second
    doc = json.loads((pytester.path / "report.json").read_text())
    diffs = [f["diff"] for r in doc["results"] for f in r["fixes"]]
    assert len(diffs) == 2 and "+net.ipv4.ip_forward" not in diffs[1]


@pytest.mark.parametrize("xdist", [False, True], ids=["serial", "xdist"])
def test_a_file_the_fixes_would_create_is_shown_once_as_created(pytester, managed, xdist):
    path, live = managed
    path.unlink()
    result = run(pytester, "--dry-run", *(["-n", "2"] if xdist else []))
    assert not path.exists()
    lines = section(result.stdout.str(), "files the fixes would change")
    assert lines[0] == f"local://: would create {path}"
    assert sum(ln.startswith("local://:") for ln in lines) == 1
    assert any(ln.strip() == f"+kernel.pid_max = {live['kernel.pid_max']}" for ln in lines)


def test_a_real_fix_shows_the_applied_diff_under_verbose(pytester, managed):
    path, live = managed
    quiet = run(pytester)
    assert quiet.ret == 0, quiet.stdout.str()
    assert "files the fixes changed" not in quiet.stdout.str()
    path.write_text("# kept\nvm.swappiness = 10\n")
    result = run(pytester, "-v")
    assert result.ret == 0, result.stdout.str()
    lines = section(result.stdout.str(), "files the fixes changed")
    assert lines[0] == f"local://: changed {path}"
    assert [ln.strip() for ln in lines[1:3]] == [f"--- {path}", f"+++ {path}"]
    added = [ln.strip() for ln in lines if ln.strip().startswith("+") and "=" in ln]
    assert added == [
        f"+net.ipv4.ip_forward = {live['net.ipv4.ip_forward']}",
        f"+kernel.pid_max = {live['kernel.pid_max']}",
    ]
