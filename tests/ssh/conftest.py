"""The ssh tier: one real sshd on loopback for the whole session."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import kit
from kit.connection import Connection, FromCallable
from tests.ssh import sshd
from tests.tiers import unavailable

USERS_GROUP = "ssh-test-users"


def _serve(users: bool) -> Iterator[sshd.Sshd]:
    ctx = sshd.running(users=users)
    try:
        started = ctx.__enter__()
    except (sshd.SshdUnavailable, subprocess.CalledProcessError, OSError) as exc:
        unavailable("ssh", str(exc))
    try:
        yield started
    finally:
        ctx.__exit__(None, None, None)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the group marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The test users are the machine's, so one session at a time holds them (sshd.running's
    # lock): a second xdist worker asking for them waits for the first worker's session to
    # end. Their tests are one group, which the tier's --dist loadgroup hands to one worker,
    # and the other worker runs the rest meanwhile.
    for item in items:
        if "server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group(USERS_GROUP))


@pytest.fixture(scope="session")
def server() -> Iterator[sshd.Sshd]:
    yield from _serve(users=True)


@pytest.fixture(scope="module")
def root_server() -> Iterator[sshd.Sshd]:
    """An sshd that takes root only: no test users, so no wait for the tier's user lock."""
    yield from _serve(users=False)


@pytest.fixture
def this_kit(monkeypatch: pytest.MonkeyPatch) -> None:
    """pytest subprocesses import the kit these tests belong to, not an installed one."""
    root = str(Path(__file__).resolve().parents[2])
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )


@pytest.fixture
def connect(server: sshd.Sshd) -> Iterator[Callable[..., Connection]]:
    """Open connections to the test sshd, as the password-sudo user by default."""
    opened: list[Connection] = []

    def _connect(user: str = sshd.USER, **options: Any) -> Connection:
        options.setdefault("identity_file", server.client_key)
        options.setdefault("known_hosts", server.known_hosts)
        options.setdefault("connect_timeout", 10)
        if "sudo_password" not in options and user in server.users:
            password = server.users[user]
            options["sudo_password"] = FromCallable(lambda: password)
        conn = kit.connect(server.spec(user), **options)
        opened.append(conn)
        return conn

    yield _connect
    for conn in opened:
        conn.close()


@pytest.fixture
def conn(connect: Callable[..., Connection]) -> Connection:
    return connect()
