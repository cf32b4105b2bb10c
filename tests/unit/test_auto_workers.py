"""`-n auto` starts workers only where they repay their start-up."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.plugin.workers import HOSTS_PER_WORKER, auto_workers, host_count


@pytest.mark.parametrize("hosts", [1, 4, 16, 64, 256, 10_000, None])
def test_two_cores_run_serially_at_any_fleet_size(hosts: int | None) -> None:
    # One core for the controller leaves one for a worker, and one worker never repays.
    assert auto_workers(hosts, 2) == 0


@pytest.mark.parametrize(
    ("hosts", "cpus", "workers"),
    [
        (16, 16, 0),
        (2 * HOSTS_PER_WORKER, 16, 2),
        (10 * HOSTS_PER_WORKER, 4, 3),
        (10 * HOSTS_PER_WORKER, 16, 10),
        (None, 8, 7),
        (None, 1, 0),
    ],
)
def test_workers_by_hosts_and_spare_cores(hosts: int | None, cpus: int, workers: int) -> None:
    assert auto_workers(hosts, cpus) == workers


@given(hosts=st.integers(1, 100_000), cpus=st.integers(1, 512))
def test_never_one_worker_nor_more_than_the_spare_cores(hosts: int, cpus: int) -> None:
    n = auto_workers(hosts, cpus)
    assert n == 0 or 2 <= n <= cpus - 1
    assert n * HOSTS_PER_WORKER <= hosts


def test_host_count_from_the_hosts_option() -> None:
    assert host_count("ssh://a,ssh://b, ssh://c", None) == 3
    assert host_count(None, None) == 1  # the local machine
    assert host_count("ssh://a", "inventory.yaml") is None
    assert host_count("ansible://web*", None) is None
