"""A connection to an sshd of its own in a pid namespace of its own, where pids are handed
out one after another to that sshd's sessions alone: the difference between two probes'
pids is the number of processes the host started in between."""

from __future__ import annotations

from collections.abc import Iterator

import kit
from kit.connection import Connection
from tests.ssh import sshd
from tests.tiers import unavailable


def connected(user: str) -> Iterator[Connection]:
    """For a fixture to `yield from`: a connection as user (root, or the tier's user, whom
    the session server's fixture keeps alive) until the fixture ends."""
    try:
        ctx = sshd.running(users=False, pid_namespace=True)
        started = ctx.__enter__()
    except (sshd.SshdUnavailable, OSError) as exc:
        unavailable("ssh", str(exc))
    try:
        with kit.connect(
            started.spec(user),
            identity_file=started.client_key,
            known_hosts=started.known_hosts,
            connect_timeout=10,
        ) as conn:
            yield conn
    finally:
        ctx.__exit__(None, None, None)
