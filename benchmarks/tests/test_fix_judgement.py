"""The fix benchmark's judgement of each phase: the outcomes every host must end with."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.fix import CHECKS, FAILING, Measured, costlier_than_a_check, phases, problems
from benchmarks.run import Run


def _measured(name: str, hosts: int, outcomes: dict[str, int]) -> Measured:
    phase = next(p for p in phases(Path("/p")) if p.name == name and p.tool == "hostkit")
    verdicts = {("test_x", h, ""): "passed" for h in range(hosts)}
    run = Run("hostkit", hosts, 0.0, 1.0, 1.0, 50.0, 0, verdicts, outcomes=outcomes)
    return Measured(phase, hosts, run)


def test_each_phase_passes_with_what_it_should_leave_on_every_host():
    hosts = 4
    fine = {
        "check": {"passed": hosts * (CHECKS - FAILING), "failed": hosts * FAILING},
        "dry run": {"passed": hosts * (CHECKS - FAILING), "failed": hosts * FAILING},
        "fix": {"passed": hosts * (CHECKS - FAILING), "fixed": hosts * FAILING},
        "second fix": {"passed": hosts * CHECKS},
    }
    for name, outcomes in fine.items():
        assert problems(_measured(name, hosts, outcomes)) == [], name


def test_a_dry_run_that_fixed_or_a_second_fix_that_fixed_again_is_a_problem():
    fixed = {"passed": 4 * (CHECKS - FAILING), "fixed": 4 * FAILING}
    (dry,) = problems(_measured("dry run", 4, fixed))
    assert dry.startswith("4 hosts, dry run (hostkit): outcomes")
    (again,) = problems(_measured("second fix", 4, fixed))
    assert "second fix" in again


def test_a_host_left_failing_by_the_fix_is_a_problem():
    one_left = {"passed": 4 * (CHECKS - FAILING), "fixed": 4 * FAILING - 1, "failed": 1}
    assert problems(_measured("fix", 4, one_left))


def test_the_dry_run_and_fixes_keep_their_records_and_lock_in_the_hosts_tmpfs():
    for phase in phases(Path("/tmp/x/private")):
        if "--fix" in phase.options:
            assert "hostkit_runs_dir=/tmp/x/private/runs" in phase.options
            assert "hostkit_lock_dir=/tmp/x/private/lock" in phase.options


def test_a_second_fix_costlier_than_a_check_run_of_the_compliant_hosts_is_a_problem():
    def sent(name: str, commands: int) -> Measured:
        m = _measured(name, 4, {"passed": 4 * CHECKS})
        m.run.counts["commands"] = commands * 4
        return m

    assert costlier_than_a_check([sent("second fix", 8), sent("check, compliant", 8)], 4) == []
    (found,) = costlier_than_a_check([sent("second fix", 9), sent("check, compliant", 8)], 4)
    assert found == "4 hosts: a second --fix sent 9.0 commands per host, a check run 8.0"
