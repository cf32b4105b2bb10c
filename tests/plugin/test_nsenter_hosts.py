"""--hosts=nsenter://PID: checks, a --dry-run and a --fix run inside a disposable container's
namespaces, through testinfra's host, the facts and the runner, serially and under -n."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import kit
from tests.local import enterable
from tests.plugin.fixruns import state_dirs

ROOT = Path(__file__).resolve().parents[2]

CHECKS = """
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

MARK = "/etc/hk-nsenter-mark"

def test_hostname(host):
    assert host.run("hostname").stdout.strip() == "hk-enter"
    assert host.check_output("hostname") == "hk-enter"

def test_only_loopback(host):
    assert host.interface.names() == ["lo"]

def test_facts_are_the_containers(facts):
    assert facts.hostname == "hk-enter"

@remediation(strategy="configure", disruption="low")
def write_mark(target):
    return files.write_file(target.conn, MARK, b"inside\\n", dry_run=target.dry_run)

@check("site.mark", "the mark is in the container's /etc", fix=write_mark)
def test_mark(host):
    assert host.file(MARK).exists, "no mark"
"""


@pytest.fixture
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[enterable.Enterable]:
    with enterable.container(tmp_path_factory.mktemp("enterable")) as c:
        yield c


@pytest.fixture(autouse=True)
def this_kit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_checks_and_a_fix_run_inside_the_container(
    pytester: pytest.Pytester, made: enterable.Enterable, workers: list[str]
) -> None:
    pytester.makepyfile(test_checks=CHECKS)
    hosts = f"--hosts={made.spec}"
    first = pytester.runpytest_subprocess("-p", "no:cacheprovider", hosts, *workers)
    first.assert_outcomes(passed=3, failed=1)
    planned = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", hosts, "--fix", "--dry-run", *state_dirs(pytester), *workers
    )
    planned.stdout.fnmatch_lines([f"*{made.spec} *: /etc/hk-nsenter-mark: would be created"])
    with kit.connect(made.spec) as conn:
        assert not conn.run("test -e /etc/hk-nsenter-mark").ok, "--dry-run wrote the mark"
    fixed = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        hosts,
        "--fix",
        "--report-json=run.json",
        *state_dirs(pytester),
        *workers,
    )
    assert fixed.parseoutcomes() == {"passed": 3, "fixed": 1}, fixed.stdout.str()
    fixed.stdout.fnmatch_lines([f"*undo it with: hostkit runs --hosts={made.spec} undo *"])
    report = json.loads((pytester.path / "run.json").read_text())
    assert [h["name"] for h in report["hosts"]] == [made.spec]
    fixes = [f for r in report["results"] for f in r["fixes"]]
    assert [f["summary"] for f in fixes] == ["/etc/hk-nsenter-mark: created"]
    assert not Path("/etc/hk-nsenter-mark").exists(), "the fix wrote this machine's /etc"
    again = pytester.runpytest_subprocess("-p", "no:cacheprovider", hosts, *workers)
    again.assert_outcomes(passed=4)


def test_a_pid_that_does_not_exist_is_one_clear_error(pytester: pytest.Pytester) -> None:
    enterable.available()
    pytester.makepyfile(test_checks="def test_x(host):\n    host.run('true')\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--hosts=nsenter://4194304")
    out = result.stdout.str() + result.stderr.str()
    assert "nsenter://4194304: no process 4194304" in out
