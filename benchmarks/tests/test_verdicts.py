"""Reading per-check verdicts from both suites' JUnit files onto one key."""

import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.run import SUITES, Run, compare, pytest_argv, verdicts

JUNIT = """<?xml version="1.0"?>
<testsuites><testsuite>
{cases}
</testsuite></testsuites>
"""


def _fleet(*endpoints):
    return SimpleNamespace(
        hosts=[SimpleNamespace(endpoint=e, index=i) for i, e in enumerate(endpoints)]
    )


def _write(tmp_path, name, cases):
    path = tmp_path / name
    path.write_text(JUNIT.format(cases="\n".join(cases)))
    return path


def test_proxied_hosts_map_by_port_and_by_pytest_suffix(tmp_path):
    fleet = _fleet("127.0.0.1:4001", "127.0.0.1:4002")
    hk = _write(
        tmp_path,
        "hk.xml",
        [
            '<testcase name="test_sysctl[ssh://root@127.0.0.1:4002-kernel.panic=10]">'
            "<failure/></testcase>",
            '<testcase name="test_sysctl[ssh://root@127.0.0.1:4001-kernel.panic=10]"/>',
        ],
    )
    ti = _write(
        tmp_path,
        "ti.xml",
        [
            '<testcase name="test_sysctl[paramiko://127.0.0.1_1-kernel.panic=10]">'
            "<failure/></testcase>",
            '<testcase name="test_sysctl[paramiko://127.0.0.1_0-kernel.panic=10]"/>',
        ],
    )
    a, b = verdicts(hk, fleet), verdicts(ti, fleet)
    assert a == {
        ("test_sysctl", 0, "kernel.panic=10"): "passed",
        ("test_sysctl", 1, "kernel.panic=10"): "failed",
    }
    assert a == b


def test_a_different_verdict_is_reported(tmp_path):
    fleet = _fleet("10.78.0.2", "10.78.0.6")
    hk = _write(tmp_path, "hk.xml", ['<testcase name="test_swap_off[ssh://root@10.78.0.6]"/>'])
    ti = _write(
        tmp_path,
        "ti.xml",
        ['<testcase name="test_swap_off[paramiko://10.78.0.6]"><failure/></testcase>'],
    )
    runs = [Run(s, 2, 0, 1, 1, 1, 0, verdicts(p, fleet)) for s, p in (("hk", hk), ("ti", ti))]
    problems = compare(*runs)
    assert problems == ["('test_swap_off', 1, ''): hostkit passed, testinfra failed"]


def test_plain_suite_runs_one_file_under_both_tools_with_the_same_workers(tmp_path):
    fleet = SimpleNamespace(
        hosts=[SimpleNamespace(endpoint="10.78.0.2")],
        client_key=tmp_path / "key",
        known_hosts=tmp_path / "known_hosts",
        ssh_config=tmp_path / "ssh_config",
    )
    ti, hk = (
        pytest_argv(tool, fleet, 1, "auto", tmp_path / "j.xml", files="plain")
        for tool in ("testinfra", "hostkit")
    )
    plain = str(SUITES["plain"]["hostkit"])
    assert plain in ti and plain in hk
    assert str(SUITES["hostkit"]["testinfra"]) not in ti
    # testinfra alone, with its own backend; hostkit with its plugin left on.
    assert "no:hostkit" in ti and "no:hostkit" not in hk
    assert "--hosts=paramiko://root@10.78.0.2" in ti
    assert "--hosts=ssh://root@10.78.0.2" in hk
    for argv in (ti, hk):
        assert argv[argv.index("-n") + 1] == "auto"
