"""The pooled shells and the channels of one connection, against a real sshd (MaxSessions 10)."""

from __future__ import annotations

import contextlib
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import kit
from kit.connection import Connection
from kit.errors import CommandNotStarted, KitValueError, SessionStartTimeout
from tests.ssh import sshd

TOO_LONG = "x" * 200_000  # past Linux's 128 KiB limit on one argument


def test_a_background_jobs_late_output_stays_out_of_the_next_command(conn: Connection) -> None:
    first = conn.run("(sleep 1; echo LATE; echo LATE-ERR >&2) &")
    assert (first.rc, first.stdout, first.stderr) == (0, "", "")
    second = conn.run("sleep 2; echo mine")
    assert (second.stdout, second.stderr) == ("mine\n", "")
    assert conn.run("echo after").stdout == "after\n"


def test_a_background_job_that_writes_elsewhere_keeps_running(conn: Connection) -> None:
    folder = conn.run('mktemp -d -p "$HOME"').check().stdout.strip()
    conn.run("(sleep 1; touch %s/done) >/dev/null 2>&1 &", folder).check()
    assert conn.run("echo next").stdout == "next\n"
    deadline = time.monotonic() + 10
    while not Path(folder, "done").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert Path(folder, "done").exists()


def _run_all(jobs: list, limit: float = 180) -> list[BaseException]:
    errors: list[BaseException] = []

    def guard(job) -> None:
        try:
            job()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=guard, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(limit)
    assert not any(t.is_alive() for t in threads), "threads still running"
    return errors


def test_fifty_threads_with_stdin_stay_within_max_sessions(conn: Connection) -> None:
    folder = conn.run('mktemp -d -p "$HOME"').check().stdout.strip()
    conn.run("echo warm").check()  # a pooled shell holds a channel too

    def sudo_cat(n: int) -> None:
        result = conn.run("cat", sudo=True, stdin=f"in-{n}")
        assert (result.rc, result.stdout) == (0, f"in-{n}")

    def put(n: int) -> None:
        conn.put(f"data-{n}".encode(), f"{folder}/f{n}")

    jobs = [lambda n=n: (sudo_cat if n % 2 else put)(n) for n in range(50)]
    assert _run_all(jobs) == []
    for n in range(0, 50, 2):
        assert Path(folder, f"f{n}").read_bytes() == f"data-{n}".encode()
    assert conn.run("echo still fine").stdout == "still fine\n"


def test_max_channels_bounds_the_commands_running_at_once(connect) -> None:
    conn = connect(max_channels=3)  # two for commands, one kept for killing
    folder = conn.run('mktemp -d -p "$HOME"').check().stdout.strip()
    seen = f"{folder}/seen"
    # Each command marks itself running, notes how many are, then unmarks itself.
    command = (
        "touch %s/run.$$; sleep 0.3; ls %s | grep -c '^run' >> %s; rm %s/run.$$; cat >/dev/null"
    )
    jobs = [
        lambda: conn.run(command, folder, folder, seen, folder, stdin=b"x").check()
        for _ in range(8)
    ]
    assert _run_all(jobs) == []
    counts = [int(n) for n in Path(seen).read_text().split()]
    assert len(counts) == 8
    assert max(counts) <= 2


@contextlib.contextmanager
def _host_allowing(sessions: int) -> Iterator[tuple[Connection, sshd.Sshd]]:
    """A connection as root to an sshd of its own whose MaxSessions is sessions."""
    with sshd.running(users=False, max_sessions=sessions) as small:
        conn = kit.connect(
            small.spec("root"),
            identity_file=small.client_key,
            known_hosts=small.known_hosts,
            connect_timeout=10,
        )
        try:
            yield conn, small
        finally:
            conn.close()


def test_commands_wait_out_an_sshd_that_refuses_channels(server: sshd.Sshd) -> None:
    # max_channels stays 10: sshd refuses most opens, and each must wait, not fail.
    with _host_allowing(3) as (conn, small):
        outputs: dict[int, str] = {}

        def job(n: int) -> None:
            # The timeout only keeps a regression from hanging the run.
            if n % 2:
                result = conn.run("cat; sleep 0.2", stdin=f"in-{n}", timeout=60)
            else:
                result = conn.run("sleep 0.2; echo out-%s", n, timeout=60)
            outputs[n] = result.check().stdout

        errors = _run_all([lambda n=n: job(n) for n in range(12)])
        assert errors == [], small.log_text()[-3000:]
        assert outputs == {n: f"in-{n}" if n % 2 else f"out-{n}\n" for n in range(12)}
        assert "no more sessions" in small.log_text()  # the refusals did happen


def test_a_channel_refused_until_the_timeout_never_ran(server: sshd.Sshd, tmp_path) -> None:
    with _host_allowing(1) as (conn, _):
        started = tmp_path / "started"
        holder = threading.Thread(
            target=lambda: conn.run("touch %s; sleep 4", started, stdin=b"x", timeout=30).check()
        )
        holder.start()
        try:
            deadline = time.monotonic() + 10
            while not started.exists() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert started.exists()
            begun = time.monotonic()
            with pytest.raises(CommandNotStarted, match="refused a new channel until the timeout"):
                conn.run("touch %s", tmp_path / "ran", stdin=b"x", timeout=1)
            assert time.monotonic() - begun < 3
            assert not (tmp_path / "ran").exists()
        finally:
            holder.join(20)
        assert conn.run("echo after").stdout == "after\n"


def test_a_host_that_refuses_every_channel_says_so(server: sshd.Sshd) -> None:
    with _host_allowing(0) as (conn, _), pytest.raises(CommandNotStarted, match="refused every"):
        conn.run("echo hi")


@pytest.mark.parametrize("bad", [1, 0, "10"])
def test_max_channels_must_leave_one_for_kills(connect, bad) -> None:
    with pytest.raises(KitValueError, match="max_channels"):
        connect(max_channels=bad)


@pytest.mark.parametrize("timeout", [None, 30])
@pytest.mark.parametrize("stdin", [None, b"x"], ids=["shell", "exec-channel"])
def test_an_argument_too_long_fails_clearly_and_promptly(
    conn: Connection, timeout: float | None, stdin: bytes | None
) -> None:
    outcome: list[BaseException | object] = []

    def attempt() -> None:
        try:
            outcome.append(conn.run("echo %s >/dev/null", TOO_LONG, stdin=stdin, timeout=timeout))
        except BaseException as exc:
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(20)
    assert not worker.is_alive(), "a command that cannot start hung"
    assert time.monotonic() - started < 20
    [error] = outcome
    assert isinstance(error, CommandNotStarted), error
    assert "could not start" in str(error)
    assert TOO_LONG not in str(error)
    assert conn.run("echo usable").stdout == "usable\n"


@pytest.fixture
def slow_login(server: sshd.Sshd) -> Iterator[None]:
    """NOPASSWD_USER's ~/.bashrc sleeps 3 seconds while this fixture lasts."""
    flag = Path(f"/home/{sshd.NOPASSWD_USER}") / sshd.SLOW_FLAG
    flag.write_text("3\n")
    shutil.chown(flag, sshd.NOPASSWD_USER, sshd.NOPASSWD_USER)
    try:
        yield
    finally:
        flag.unlink()


def test_a_slow_login_shell_is_not_bound_by_connect_timeout(connect, slow_login) -> None:
    conn = connect(sshd.NOPASSWD_USER, connect_timeout=1)
    assert conn.run("echo hi").stdout == "hi\n"
    assert conn.run("echo again").stdout == "again\n"


def test_a_login_shell_slower_than_startup_timeout_says_so(connect, slow_login) -> None:
    conn = connect(sshd.NOPASSWD_USER, startup_timeout=1)
    with pytest.raises(SessionStartTimeout, match="startup_timeout"):
        conn.run("echo hi")
