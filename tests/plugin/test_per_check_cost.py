"""What a check costs the controller: the same for the last check of a big run as for the
first of a small one, and close to what pytest and testinfra cost for a test of its shape.

Counted in Python function calls under cProfile, not timed, so a loaded machine gives the
same answer: the calls an item adds are measured as the difference between runs of the same
suite at several sizes, which takes the fixed cost of start-up and collection out.
"""

from __future__ import annotations

import itertools
import pstats
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOSTS = 3
SIZES = (40, 80, 160)  # checks per host

HOSTKIT = """
import pytest
from kit.catalog.check import check


@check("cost.extra", "A facts-only check")
@pytest.mark.parametrize("n", range(CHECKS))
def test_extra(facts, n):
    assert facts.sysctls is not None
"""

# A test of the same shape under testinfra alone, on its one local host: a function-scoped
# fixture on the `host` fixture, and one parameter, as many items.
BARE = """
import pytest


@pytest.fixture
def facts(host):
    return host.backend


@pytest.mark.parametrize("n", range(CHECKS * HOSTS))
def test_extra(facts, n):
    assert facts is not None
"""


def calls(pytester: pytest.Pytester, checks: int, *, bare: bool) -> int:
    """The Python function calls of one pytest run of `checks` checks on each host."""
    source = BARE if bare else HOSTKIT
    name = f"test_{'bare' if bare else 'kit'}_{checks}"
    suite = pytester.makepyfile(
        **{name: source.replace("CHECKS", str(checks)).replace("HOSTS", str(HOSTS))}
    )
    profile = pytester.path / f"{name}.prof"
    argv = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "pytest", str(suite)]
    argv += ["-p", "no:cacheprovider", "-p", "no:xdist", "-p", "no:randomly", "-q"]
    if bare:
        argv += ["-p", "no:hostkit", "--hosts=local://"]
    else:
        argv += ["--inventory=hosts.ini", "--inventory-backend=builtin", "--hosts=fleet"]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"}
    done = subprocess.run(argv, cwd=pytester.path, env=env, capture_output=True, text=True)
    passed = checks * HOSTS
    assert done.returncode == 0 and f"{passed} passed" in done.stdout, done.stdout + done.stderr
    return pstats.Stats(str(profile)).total_calls


def per_item(pytester: pytest.Pytester, *, bare: bool) -> list[float]:
    """The calls each added item costs, from the smallest size to the next, and so on."""
    # A first run compiles what has no bytecode yet (and pytest rewrites its asserts):
    # counted, that one-off would pass for a cheaper check in the smallest run.
    calls(pytester, SIZES[0], bare=bare)
    totals = {n: calls(pytester, n, bare=bare) for n in SIZES}
    return [(totals[b] - totals[a]) / ((b - a) * HOSTS) for a, b in itertools.pairwise(SIZES)]


@pytest.fixture
def fleet(pytester: pytest.Pytester) -> None:
    hosts = "".join(f"h{i} ansible_connection=local\n" for i in range(HOSTS))
    pytester.makefile(".ini", hosts="[fleet]\n" + hosts)


def test_a_check_costs_the_same_however_big_the_run(pytester, fleet):
    """Nothing the plugin does per check scans the run's items or reports so far."""
    small, big = per_item(pytester, bare=False)
    assert big <= small * 1.1, f"calls per check: {small:.0f}, then {big:.0f} in a bigger run"


def test_a_check_costs_little_more_than_a_testinfra_test(pytester, fleet):
    """A check adds few calls to what pytest and testinfra spend on a test of its shape.

    That spending is mostly fixtures: pytest builds a fixture definition each time a
    function-scoped fixture that asks for `request` is set up, and inspects its signature.
    """
    kit = per_item(pytester, bare=False)[-1]
    bare = per_item(pytester, bare=True)[-1]
    assert kit <= bare * 1.1, f"calls per check: {kit:.0f}; per bare testinfra test: {bare:.0f}"
