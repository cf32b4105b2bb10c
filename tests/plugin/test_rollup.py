"""The fleet view at the end of a multi-host run: a line per check that failed, was fixed,
waived or errored somewhere, with host counts and the first hosts; and a file change that
is the same on several hosts shown once, with the hosts it applies to."""

from __future__ import annotations

import pytest

from tests.plugin.fixruns import state_dirs
from tests.plugin.test_output import section

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files


def host_of(request):
    # The test id names the host.
    return next(h for h in ("web1", "web2", "web3") if h in request.node.name)


@remediation(strategy="configure", disruption="low")
def write_conf(target, path):
    return files.write_file(target.conn, path, "wanted = 1\\n", dry_run=target.dry_run)


@check("t.value", "fails on web1 and web2")
@pytest.mark.parametrize("n", [1, 2])
def test_value(conn, request, n):
    assert host_of(request) == "web3" or n == 1, "value is wrong"


@check("t.soft", "a warning on web2", severity="warning")
def test_soft(conn, request):
    assert host_of(request) != "web2", "soft"


@check("t.good", "always right")
def test_good(conn, request):
    pass


@check("t.conf", "the file is there", fix=write_conf)
@pytest.mark.parametrize("path", [CONF], ids=["conf"])
def test_conf(conn, path):
    assert conn.run("test -e %s", path).ok, "no file"
"""


@pytest.fixture
def fleet(pytester: pytest.Pytester, tmp_path) -> list[str]:
    conf = tmp_path / "wanted.conf"
    pytester.makepyfile(test_checks=f"CONF = {str(conf)!r}\n" + CHECKS)
    pytester.path.joinpath("hosts.ini").write_text(
        "[fleet]\n" + "".join(f"web{n} ansible_connection=local\n" for n in (1, 2, 3))
    )
    return ["-p", "no:cacheprovider", "--inventory=hosts.ini", "--hosts=fleet"]


def test_a_line_per_check_with_host_counts_and_the_first_hosts(pytester, fleet):
    result = pytester.runpytest_subprocess(*fleet, "-k", "not conf")
    rows = section(result.stdout.str(), "checks across hosts")
    assert rows[0].split() == [
        "check",
        "severity",
        "failed",
        "fixed",
        "waived",
        "error",
        "of",
        "first",
        "hosts",
    ]
    by_check = {row.split()[0]: row.split(None, 7) for row in rows[1:]}
    assert set(by_check) == {"t.value", "t.soft"}, rows
    assert by_check["t.value"][1:] == ["error", "2", "0", "0", "0", "3", "web1, web2"]
    assert by_check["t.soft"][1:] == ["warning", "1", "0", "0", "0", "3", "web2"]
    # The check failing on most hosts comes first.
    assert rows[1].startswith("t.value")


def test_no_roll_up_for_one_host(pytester, fleet):
    result = pytester.runpytest_subprocess(*fleet[:-1], "--hosts=web1", "-k", "not conf")
    assert "checks across hosts" not in result.stdout.str()


def test_the_same_planned_change_is_shown_once_with_its_hosts(pytester, fleet, tmp_path):
    args = [*fleet, "--fix", "--dry-run", *state_dirs(pytester), "-k", "conf"]
    result = pytester.runpytest_subprocess(*args)
    out = result.stdout.str()
    lines = section(out, "files the fixes would change")
    conf = tmp_path / "wanted.conf"
    assert lines[0] == f"web1, web2, web3: would create {conf}", lines
    assert out.count("+wanted = 1") == 1, out
    rows = section(out, "checks across hosts")
    assert rows[1].split()[:7] == ["t.conf", "error", "3", "0", "0", "0", "3"]
