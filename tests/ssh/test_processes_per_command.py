"""How many processes the host starts per command through the long-lived shell.

Counted on an sshd of its own that runs in a pid namespace of its own: there,
pids are handed out one after another to that sshd's sessions alone, so the
difference between the pids of two probe commands is the number of processes
the host started in between, whatever else runs on this machine.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kit.connection import Connection
from tests.ssh import pidns, sshd

# Runs no program: its own pid is the one process the host started for it.
PROBE = "echo $$"
COMMANDS = 20


@pytest.fixture(scope="module")
def counted(server: sshd.Sshd) -> Iterator[Connection]:
    """A connection as the tier's test user to an sshd in a pid namespace of its own.

    The user is the session server's, so that fixture keeps it alive.
    """
    yield from pidns.connected(sshd.USER)


def processes_per_command(conn: Connection, command: str) -> float:
    """Processes the host started per run of command, over COMMANDS runs of it."""
    conn.run(command).check()  # anything the first run sets up is not counted
    first = int(conn.run(PROBE).check().stdout)
    for _ in range(COMMANDS):
        conn.run(command).check()
    last = int(conn.run(PROBE).check().stdout)
    return (last - first - 1) / COMMANDS  # the last probe's own process is in the difference


@pytest.mark.parametrize(
    "command",
    [
        "cat /proc/swaps",
        # A job that outlives its command but holds none of its output: nothing to guard.
        "sleep 3 </dev/null >/dev/null 2>&1 &",
    ],
)
def test_a_command_costs_one_process_beyond_its_own(counted: Connection, command: str) -> None:
    # Each command above starts one program itself (cat, or sleep) besides the process
    # that runs it; anything more the shell starts around them is the overhead.
    assert processes_per_command(counted, command) <= 2
