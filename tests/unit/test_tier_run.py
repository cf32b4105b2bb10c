"""tests/run.sh: which tiers run, in which lanes, and the time table it ends with."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests import run, timings

ROOT = Path(__file__).resolve().parents[2]


def names(tiers) -> list[str]:
    return [t.name for t in tiers]


def test_no_tier_named_runs_every_tier_in_ci_order():
    assert names(run.select([])) == [
        "hosts-vm", "unit", "local", "ssh", "parity", "plugin", "wheel", "image", "bench",
        "hosts-containers",
    ]  # fmt: skip


def test_named_tiers_run_alone_in_ci_order():
    assert names(run.select(["plugin", "unit"])) == ["unit", "plugin"]
    assert names(run.select(["hosts"])) == ["hosts-vm", "hosts-containers"]


def test_the_image_tier_runs_the_local_tests_the_local_tier_leaves_out():
    tiers = {t.name: t for t in run.select([])}
    local, image = tiers["local"].args, tiers["image"].args
    assert local[0] == image[0] == "tests/local"
    assert local[local.index("-m") + 1] == "not wheel and not image"
    assert image[image.index("-m") + 1] == "image"


def test_an_unknown_tier_is_refused_with_the_tiers_there_are():
    with pytest.raises(run.UsageError, match=r"no tier 'unti'; tiers: hosts-vm, unit, .*hosts$"):
        run.select(["unit", "unti"])


def test_the_vm_runs_beside_the_other_tiers_and_they_run_one_after_another():
    (main, vm) = run.lanes(run.select([]))
    assert names(vm) == ["hosts-vm"]
    assert names(main)[0] == "unit" and names(main)[-1] == "hosts-containers"
    assert run.lanes(run.select(["unit", "ssh"])) == [run.select(["unit", "ssh"])]


def test_the_other_lanes_run_at_a_lower_priority_beside_the_vm_only():
    main, vm = run.lanes(run.select([]))
    assert run.niceness(main, [main, vm]) == run.BESIDE_VM_NICE > 0
    assert run.niceness(vm, [main, vm]) == 0
    (alone,) = run.lanes(run.select(["unit", "plugin"]))
    assert run.niceness(alone, [alone]) == 0
    vm_only, containers = run.lanes(run.select(["hosts"]))
    assert (
        run.niceness(vm_only, [vm_only, containers]),
        run.niceness(containers, [vm_only, containers]),
    ) == (0, run.BESIDE_VM_NICE)


def test_every_tier_writes_its_own_junit_report_and_takes_the_extra_arguments():
    argvs = [t.argv(["-x"]) for t in run.select([])]
    reports = [a for argv in argvs for a in argv if a.startswith("--junitxml=")]
    assert len(set(reports)) == len(argvs)
    assert all(argv[-1] == "-x" for argv in argvs)


def test_the_parity_tier_is_not_run_twice():
    (ssh,) = run.select(["ssh"])
    (parity,) = run.select(["parity"])
    assert f"--deselect={parity.args[0]}" in ssh.args


def test_an_unknown_tier_exits_2_before_running_anything():
    done = subprocess.run(
        ["bash", str(ROOT / "tests/run.sh"), "unti"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done
    assert "no tier 'unti'" in done.stderr
    assert "=== " not in done.stdout


class _Collected:
    """Records each collected hosts test: its id, fixtures, and whether it is marked vm."""

    def __init__(self) -> None:
        self.items: list[tuple[str, set[str], bool]] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        for item in session.items:
            fixtures = set(getattr(item, "fixturenames", ()))
            self.items.append((item.nodeid, fixtures, item.get_closest_marker("vm") is not None))


def test_every_hosts_scenario_asking_for_the_vm_is_marked_vm():
    collected = _Collected()
    rc = pytest.main(
        [str(ROOT / "tests/hosts"), "--collect-only", "-q", "-p", "no:randomly"],
        plugins=[collected],
    )
    assert rc == 0
    on_vm = {nodeid for nodeid, fixtures, _ in collected.items if fixtures & {"vm", "vm_fleet"}}
    marked = {nodeid for nodeid, _, is_vm in collected.items if is_vm}
    # the VM lane holds the shared VM's scenarios and nothing else: one booting a VM of
    # its own for seconds (to see it time out) runs beside them
    assert on_vm and on_vm == marked
    assert not any("containers" in f and is_vm for _, f, is_vm in collected.items)


JUNIT = """<?xml version="1.0"?>
<testsuites><testsuite name="pytest" tests="3">
<testcase classname="tests.hosts.test_a" name="test_one" time="120.5"/>
<testcase classname="tests.hosts.test_b" name="test_two[x]" time="3.25">
  <failure message="m"/></testcase>
<testcase classname="tests.hosts.test_b" name="test_three" time="0.01"><skipped/></testcase>
</testsuite></testsuites>
"""


def test_a_tier_that_runs_no_tests_fails_unless_the_arguments_given_narrowed_it():
    assert not timings.TierTime("unit", 1.0, 5).ok
    assert timings.TierTime("unit", 1.0, 5).verdict == "FAILED (no tests ran)"
    narrowed = timings.TierTime("hosts-vm", 1.0, 5, narrowed=True)
    assert narrowed.ok and narrowed.verdict == "nothing selected by the arguments"
    assert not timings.TierTime("unit", 1.0, 1, narrowed=True).ok
    assert timings.TierTime("unit", 1.0, 0).ok


def test_scenarios_are_read_from_the_junit_report(tmp_path):
    report = tmp_path / "r.xml"
    report.write_text(JUNIT)
    assert timings.scenarios(report, "hosts-vm") == [
        timings.Scenario("hosts-vm", "test_a::test_one", 120.5, "passed"),
        timings.Scenario("hosts-vm", "test_b::test_two[x]", 3.25, "failure"),
        timings.Scenario("hosts-vm", "test_b::test_three", 0.01, "skipped"),
    ]
    assert timings.scenarios(tmp_path / "missing.xml", "hosts-vm") == []


def test_stages_are_appended_per_worker_and_read_back(tmp_path, monkeypatch):
    path = tmp_path / "stages.jsonl"
    monkeypatch.setenv("HOSTKIT_STAGES", str(path))
    monkeypatch.setenv("PYTEST_XDIST_WORKER", "gw1")
    timings.record_stage("boot vm", 31.04)
    monkeypatch.delenv("PYTEST_XDIST_WORKER")
    timings.record_stage("image", 2)
    assert timings.stages(path) == [
        timings.Stage("boot vm", 31.0, "gw1"),
        timings.Stage("image", 2.0, "main"),
    ]
    monkeypatch.delenv("HOSTKIT_STAGES")
    timings.record_stage("not recorded", 1)
    assert len(timings.stages(path)) == 2


def test_the_table_shows_each_tier_each_scenario_longest_first_and_the_total():
    text = timings.table(
        [timings.TierTime("unit", 61.0, 0), timings.TierTime("hosts-vm", 1500.0, 5)],
        [
            timings.Scenario("hosts-vm", "test_a::test_short", 10.0, "passed"),
            timings.Scenario("hosts-vm", "test_a::test_long", 300.0, "passed"),
        ],
        [timings.Stage("boot vm", 40.0, "main")],
        2100.0,
        ((1.5, 1.0, 0.5), (3.0, 2.0, 1.0)),
    )
    lines = text.splitlines()
    assert any(line.startswith("unit") and "61.0 s" in line and "passed" in line for line in lines)
    assert any("hosts-vm" in line and "FAILED (no tests ran)" in line for line in lines)
    assert any(line.startswith("boot vm [main]") and "40.0 s" in line for line in lines)
    assert _index(lines, "test_a::test_long") < _index(lines, "test_a::test_short")
    assert "hosts-vm scenarios, longest first (2, 5.2 min summed)" in lines
    assert any(line.startswith("total") and "2100.0 s  35.0 min" in line for line in lines)
    assert (
        lines[-1]
        == "load average (1, 5, 15 min): 1.50 1.00 0.50 at the start, 3.00 2.00 1.00 at the end"
    )


def _index(lines: list[str], fragment: str) -> int:
    return next(i for i, line in enumerate(lines) if fragment in line)
