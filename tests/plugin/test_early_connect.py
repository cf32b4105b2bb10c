"""A serial run starts connecting to its hosts while it plans and collects, not after."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kit.plugin.outcomes import EXIT_UNREACHABLE
from tests.plugin.fixruns import closed_ports

ROOT = Path(__file__).resolve().parents[2]

# Logs each connect the registry makes (the connect is real), and at the end of
# collection how many had begun by then: waiting up to 10 s for all of them, which
# only connects already under way can satisfy.
CONFTEST = """
import json, os, threading, time

import kit.plugin.hosts

STARTED = []
real_connect = kit.plugin.hosts.connect


def counted_connect(spec, **options):
    STARTED.append(str(spec))
    return real_connect(spec, **options)


kit.plugin.hosts.connect = counted_connect


def pytest_collection_finish(session):
    deadline = time.monotonic() + 10
    while len(STARTED) < int(os.environ["HOST_COUNT"]) and time.monotonic() < deadline:
        time.sleep(0.01)
    with open(os.environ["CONNECT_LOG"], "w") as out:
        json.dump({"by_end_of_collection": sorted(STARTED)}, out)
"""

CHECKS = """
def test_item(host):
    assert host.run("true").rc == 0
"""


@pytest.fixture(autouse=True)
def this_kit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def _run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str, wait_for: int = 3
) -> list[str]:
    log = pytester.path / "connects.json"
    monkeypatch.setenv("CONNECT_LOG", str(log))
    hosts = [f"ssh://127.0.0.1:{p}" for p in closed_ports(3)]
    monkeypatch.setenv("HOST_COUNT", str(wait_for))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_hosts=CHECKS)
    result = pytester.runpytest_subprocess("--hosts=" + ",".join(hosts), *args)
    if "--collect-only" not in args:
        assert result.ret == EXIT_UNREACHABLE, result.stdout.str()
    return json.loads(log.read_text())["by_end_of_collection"]


def test_every_host_is_being_connected_before_collection_ends(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(_run(pytester, monkeypatch, "-p", "no:xdist")) == 3


def test_collect_only_connects_to_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _run(pytester, monkeypatch, "--collect-only", "-p", "no:xdist", wait_for=0) == []


FROZEN = """
import gc

def pytest_runtest_call(item):
    print("FROZEN=%d ITEMS=%d" % (gc.get_freeze_count(), len(item.session.items)))
"""


def test_the_collected_items_are_out_of_the_collectors_sight(pytester: pytest.Pytester) -> None:
    """Full collections during and at the end of the run do not walk every collected item."""
    pytester.makeconftest(FROZEN)
    pytester.makepyfile(
        test_many="import pytest\n\n@pytest.mark.parametrize('n', range(200))\n"
        "def test_n(host, n):\n    assert n >= 0\n"
    )
    result = pytester.runpytest_subprocess("--hosts=local://", "-s", "-p", "no:xdist")
    assert result.ret == 0, result.stdout.str()
    frozen = [int(n) for n in re.findall(r"FROZEN=(\d+)", result.stdout.str())]
    # Each item alone is a handful of objects: 200 of them freeze thousands.
    assert frozen and min(frozen) > 200 * 10, frozen[:3]
