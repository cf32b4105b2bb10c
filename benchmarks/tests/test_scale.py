"""The scale benchmark's judgement of its own figures: per-check CPU, memory per host, growth."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.run import Run
from benchmarks.scale import Point, verdicts


def _run(hosts: int, cpu: float, mb: float) -> Run:
    found = {("test_x", h, "passed"): "passed" for h in range(hosts)}
    return Run("hostkit", hosts, 0.0, cpu, cpu, mb, 0, found)


def _point(hosts: int, cpu: float, extra_cpu: float, mb: float) -> Point:
    return Point(hosts, _run(hosts, cpu, mb), _run(hosts, cpu + extra_cpu, mb), extra=100)


def test_per_check_cost_is_the_added_cpu_over_added_items():
    point = _point(16, 2.0, 1.6, 80)
    assert point.cpu_ms_per_check == pytest.approx(1.0)


def test_growth_faster_than_the_fleet_is_named():
    linear = [_point(4, 1.0, 0.2, 60), _point(16, 4.0, 0.8, 66)]
    quadratic = [_point(4, 1.0, 0.2, 60), _point(16, 16.0, 3.2, 200)]
    assert "(1.00 of linear)" in "\n".join(verdicts(linear))
    assert "- Peak memory per added host: at most 0.50 MB; target 1 MB: met" in verdicts(linear)
    found = "\n".join(verdicts(quadratic))
    assert "(4.00 of linear)" in found
    assert "per check per host: at most 2.00 ms (at 16 hosts); target 1 ms: not met" in found
    assert "target 1 MB: not met" in found
