"""A pytest plugin for the benchmark: what an xdist worker spent before its first test.

Loaded with `-p workercpu`. Each worker writes $HKB_WORKERS/<worker id>.json with its
own CPU seconds (user + system, os.times: this process only, never its children) and
the modules it had loaded, taken twice: when its collection ended, and when its first
test began (before that test's fixtures). A worker xdist gives no test has only the
first. The controller writes nothing.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

_TAKEN: dict[str, dict[str, Any]] = {}


def _take(moment: str) -> None:
    out = os.environ.get("HKB_WORKERS")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not out or not worker or moment in _TAKEN:
        return
    times = os.times()
    _TAKEN[moment] = {"cpu": times.user + times.system, "modules": sorted(sys.modules)}
    # Written at once: xdist may end a worker before its session finishes.
    path = Path(out, f"{worker}.json")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(_TAKEN))
    os.replace(tmp, path)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    _take("collected")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _take("first_test")
