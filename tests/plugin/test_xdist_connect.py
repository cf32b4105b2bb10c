"""Under xdist, each worker connects to all of its hosts before its first check, at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kit.plugin.outcomes import EXIT_UNREACHABLE
from tests.plugin.fixruns import closed_ports

ROOT = Path(__file__).resolve().parents[2]

# Wraps the connect the host registry calls, to log who connects when; the connect is real.
CONFTEST = """
import json, os, threading

import kit.plugin.hosts

FINISHED = []
real_connect = kit.plugin.hosts.connect


def log(entry):
    with open(os.environ["CONNECT_LOG"], "a") as out:
        out.write(json.dumps(entry) + "\\n")


def counted_connect(spec, **options):
    log({
        "event": "connect",
        "host": str(spec),
        "worker": os.environ.get("PYTEST_XDIST_WORKER"),
        "checks_done": len(FINISHED),
        "main_thread": threading.current_thread() is threading.main_thread(),
    })
    return real_connect(spec, **options)


kit.plugin.hosts.connect = counted_connect


def pytest_runtest_teardown(item):
    FINISHED.append(item.nodeid)
    host = dict(item.user_properties).get("host")
    log({"event": "ran", "host": host, "worker": os.environ.get("PYTEST_XDIST_WORKER")})
"""

CHECKS = """
import pytest

@pytest.mark.parametrize("n", range(3))
def test_item(host, n):
    assert host.run("true").rc == 0
"""


@pytest.fixture(autouse=True)
def this_kit(monkeypatch):
    """The subprocesses import the kit under test, wherever their working directory is."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


def test_workers_connect_to_all_their_hosts_before_their_first_check(
    pytester, tmp_path, monkeypatch
):
    log = tmp_path / "connects.jsonl"
    monkeypatch.setenv("CONNECT_LOG", str(log))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_hosts=CHECKS)
    hosts = [f"ssh://127.0.0.1:{p}" for p in closed_ports(6)]
    result = pytester.runpytest_subprocess("-n", "2", "--hosts=" + ",".join(hosts))
    assert result.ret == EXIT_UNREACHABLE, result.stdout.str()
    entries = [json.loads(line) for line in log.read_text().splitlines()]
    connects = [e for e in entries if e["event"] == "connect"]
    ran: dict[str, set[str]] = {}
    for e in entries:
        if e["event"] == "ran":
            ran.setdefault(e["worker"], set()).add(e["host"])
    # Each host once, by the worker that then runs its checks, before that worker's first check.
    assert sorted(e["host"] for e in connects) == sorted(hosts)
    connected: dict[str, set[str]] = {}
    for e in connects:
        connected.setdefault(e["worker"], set()).add(e["host"])
    assert connected == ran, (connected, ran)
    assert len(ran) == 2 and all(len(h) == 3 for h in ran.values()), ran
    assert all(e["checks_done"] == 0 for e in connects), connects
    # All at once: on the prefetch's threads, not one by one in the checks' own thread.
    assert not any(e["main_thread"] for e in connects), connects
