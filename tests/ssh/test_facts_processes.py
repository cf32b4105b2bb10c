"""How many processes a facts gather starts on a host over SSH, and that what it says
is what the earlier script said, as root and as a login without privileges.

Counted on an sshd in a pid namespace of its own, where pids are handed out one after
another to its sessions alone: the pids of two probe commands around a gather differ by
the processes the host started in between. What running any script costs (the session's
own process for a command, the script's sh) is measured with an empty script and taken
off, so the count is the processes the gather's script starts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from kit.connection import Connection
from kit.facts import Probes
from kit.facts.gather import raw_facts, script
from tests.facts_compare import OLD_SCRIPT, PROBES_FILES, PROBES_PACKAGES, compare
from tests.ssh import pidns

PROBES = Probes(PROBES_FILES, PROBES_PACKAGES)


@pytest.fixture(scope="module")
def counted_root() -> Iterator[Connection]:
    """A root connection to an sshd in a pid namespace of its own."""
    yield from pidns.connected("root")


def started_by(conn: Connection, run: Callable[[], object]) -> int:
    """Processes the host started while run() ran."""
    first = int(conn.run("echo $$").check().stdout)
    run()
    last = int(conn.run("echo $$").check().stdout)
    return last - first - 1  # the last probe's own process is in the difference


def processes(conn: Connection, text: str) -> int:
    def gather(body: str) -> Callable[[], object]:
        return lambda: raw_facts(conn, body, probes=PROBES)

    gather(text)()  # anything a first run sets up is not counted
    return min(started_by(conn, gather(text)) for _ in range(2)) - started_by(conn, gather(":"))


def test_a_gather_over_ssh_starts_at_most_15_processes(counted_root: Connection) -> None:
    count = processes(counted_root, script())
    before = processes(counted_root, OLD_SCRIPT.read_text())
    print(f"gather.sh over ssh as root: {count} processes; before: {before}")
    assert count <= 15


def test_root_gather_over_ssh_says_what_the_earlier_script_said(
    counted_root: Connection,
) -> None:
    assert compare(lambda text: raw_facts(counted_root, text, probes=PROBES)) == []


def test_a_login_gather_over_ssh_says_what_the_earlier_script_said(conn: Connection) -> None:
    assert compare(lambda text: raw_facts(conn, text, probes=PROBES)) == []
