"""nsenter:// enters a disposable container (tests/local/enterable.py): its commands see
the container's hostname, mounts, network and processes, and what they write to its
private /etc stays there. Refusals are one line naming the problem."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import kit
from kit.connection import Connection
from kit.errors import ConnectError, HostUnreachable
from tests.local import enterable


@pytest.fixture
def made(tmp_path: Path) -> Iterator[enterable.Enterable]:
    with enterable.container(tmp_path) as c:
        yield c


@pytest.fixture
def conn(made: enterable.Enterable) -> Iterator[Connection]:
    with kit.connect(made.spec) as c:
        yield c


def test_commands_see_the_containers_hostname(conn: Connection) -> None:
    assert conn.run("hostname").stdout.strip() == enterable.HOSTNAME != os.uname().nodename


def test_commands_see_the_containers_network(conn: Connection) -> None:
    links = conn.run("ip -o link show").check().stdout.splitlines()
    assert [line.split(":")[1].strip() for line in links] == ["lo"]


def test_commands_see_the_containers_processes(conn: Connection, made: enterable.Enterable) -> None:
    ours = Path(f"/proc/{made.leader}/cmdline").read_bytes()
    assert conn.get("/proc/1/cmdline") == ours
    assert int(conn.run("echo $$").stdout) < made.leader  # numbered in its own namespace


def test_commands_see_the_containers_mounts(conn: Connection, made: enterable.Enterable) -> None:
    inside = conn.get("/proc/self/mountinfo").decode()
    assert " - tmpfs hk-run " in inside
    assert "hk-run" not in Path("/proc/self/mountinfo").read_text()


@pytest.mark.parametrize("kind", ["mnt", "uts", "ipc", "net", "pid", "cgroup"])
def test_every_namespace_is_the_containers(
    conn: Connection, made: enterable.Enterable, kind: str
) -> None:
    inside = conn.run("readlink /proc/self/ns/%s", kind).check().stdout.strip()
    assert inside == os.readlink(f"/proc/{made.leader}/ns/{kind}")
    assert inside != os.readlink(f"/proc/self/ns/{kind}")


def test_a_write_to_its_etc_stays_in_the_container(conn: Connection) -> None:
    path = "/etc/hk-nsenter-private"
    conn.put(b"inside\n", path, mode=0o644)
    assert conn.get(path) == b"inside\n"
    assert not Path(path).exists()


def test_a_pid_that_does_not_exist_is_refused() -> None:
    enterable.available()
    with pytest.raises(ConnectError, match=r"^nsenter:4194304: no process 4194304$"):
        kit.connect("nsenter://4194304")


def test_a_container_gone_after_connect_ends_the_connection(tmp_path: Path) -> None:
    with enterable.container(tmp_path) as made:
        conn = kit.connect(made.spec)
        assert conn.run("true").ok
    with pytest.raises(HostUnreachable, match=r"no process|no longer the process"):
        conn.run("true")


def test_a_controller_that_is_not_root_is_refused(made: enterable.Enterable) -> None:
    # A real unprivileged process (setpriv), not a faked uid.
    code = f"import kit\ntry:\n    kit.connect({made.spec!r})\nexcept Exception as e:\n    print(e)"
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        timeout=60,
    )
    assert done.stdout.strip() == (
        f"nsenter:{made.leader}: entering the namespaces of pid {made.leader} needs root; "
        "hostkit runs as uid 65534"
    ), done.stderr


def test_entering_that_does_not_finish_in_time_is_a_connect_error(
    made: enterable.Enterable,
) -> None:
    # No entering finishes in a microsecond: the probe's timeout is what answers.
    with pytest.raises(ConnectError, match=r"entering the namespaces of pid \d+ took over 1e-06s"):
        kit.connect(made.spec, connect_timeout=1e-6)
