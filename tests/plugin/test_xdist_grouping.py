"""Under xdist, all of a host's checks run on one worker; hosts spread across workers."""

from __future__ import annotations

import json
import socket

from kit.plugin.outcomes import EXIT_UNREACHABLE

CONFTEST = """
import json, os

def pytest_runtest_setup(item):
    host = dict(item.user_properties).get("host")
    with open(os.environ["GROUPING_LOG"], "a") as log:
        log.write(json.dumps([host, os.environ.get("PYTEST_XDIST_WORKER")]) + "\\n")
"""

CHECKS = """
import pytest

@pytest.mark.parametrize("n", range(6))
def test_item(host, n):
    assert host.run("true").rc == 0
"""


def closed_ports(count: int) -> list[int]:
    ports = []
    for _ in range(count):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
    return ports


def test_each_host_on_one_worker(pytester, tmp_path, monkeypatch):
    log = tmp_path / "grouping.jsonl"
    monkeypatch.setenv("GROUPING_LOG", str(log))
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_grouping=CHECKS)
    dead = [f"ssh://127.0.0.1:{p}" for p in closed_ports(3)]
    result = pytester.runpytest_subprocess("-n", "2", "--hosts=" + ",".join(["local://", *dead]))
    assert result.ret == EXIT_UNREACHABLE
    workers: dict[str, set[str]] = {}
    for line in log.read_text().splitlines():
        host, worker = json.loads(line)
        workers.setdefault(host, set()).add(worker)
    assert set(workers) == {"local://", *dead}
    assert all(len(w) == 1 for w in workers.values()), workers
    assert len(set().union(*workers.values())) == 2, "hosts should spread over both workers"
