"""A fix run's id sorts by when the run started, down to runs started in the same second:
the last run to fix a check is found by the ids' order (kit.runner.nottaken)."""

from __future__ import annotations

from kit.plugin.fixhost import new_run_id
from kit.runner.runrecord import valid_run_id


def test_run_ids_made_one_after_another_sort_in_that_order():
    ids = [new_run_id() for _ in range(200)]
    assert len(set(ids)) == len(ids)
    assert sorted(ids) == ids
    assert all(valid_run_id(i) for i in ids)
