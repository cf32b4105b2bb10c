"""Commands through the long-lived shell and through exec channels, against a real sshd."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from kit.connection import Connection
from kit.errors import CommandError, CommandTimeout, HostUnreachable
from tests.ssh import sshd


def test_exit_code_stdout_and_stderr_stay_apart(conn: Connection) -> None:
    result = conn.run("echo out; echo err >&2; exit 7")
    assert (result.rc, result.stdout_bytes, result.stderr_bytes) == (7, b"out\n", b"err\n")
    assert not result.ok
    with pytest.raises(CommandError) as caught:
        result.check()
    assert caught.value.result is result


def test_output_without_trailing_newline_is_exact(conn: Connection) -> None:
    result = conn.run("printf abc; printf def >&2")
    assert (result.stdout_bytes, result.stderr_bytes) == (b"abc", b"def")
    assert conn.run("true").stdout_bytes == b""


def test_any_bytes_arrive_exact(conn: Connection) -> None:
    result = conn.run(r"printf '\000\001\377\r\n\033x'; printf '\377\000' >&2")
    assert result.stdout_bytes == b"\x00\x01\xff\r\n\x1bx"
    assert result.stderr_bytes == b"\xff\x00"


def test_output_that_looks_like_framing_is_kept(conn: Connection) -> None:
    fake = "hk" + "0" * 32 + "e 0\n"
    result = conn.run("printf %%s%%s %s %s; printf %%s%%s %s %s >&2", fake, fake, fake, fake)
    assert result.stdout == fake * 2
    assert result.stderr == fake * 2
    assert result.rc == 0


def test_commands_run_as_the_user_in_their_home(conn: Connection) -> None:
    assert conn.run("id -un").stdout == sshd.USER + "\n"
    assert conn.run("pwd").stdout.strip() == f"/home/{sshd.USER}"


def test_cd_and_export_do_not_leak_between_commands(conn: Connection) -> None:
    assert conn.run("cd /tmp && export HK_LEAK=yes && umask 077 && pwd").stdout == "/tmp\n"
    after = conn.run('pwd; echo "${HK_LEAK-unset}"; umask').stdout.split()
    assert after[0] == f"/home/{sshd.USER}"
    assert after[1] == "unset"
    assert after[2] != "0077"


def test_exit_of_a_command_does_not_end_the_shell(conn: Connection) -> None:
    assert conn.run("exit 3").rc == 3
    assert conn.run("exec false").rc == 1
    assert conn.run("echo alive").stdout == "alive\n"


def test_syntax_error_is_the_commands_failure_only(conn: Connection) -> None:
    result = conn.run("echo 'unterminated")
    assert result.rc == 2
    assert result.stderr
    assert conn.run("echo fine").stdout == "fine\n"


def test_env_and_args_are_quoted(conn: Connection) -> None:
    result = conn.run('printf "%%s|%%s" "$HK_A" %s', "it's $(here)", env={"HK_A": "a b;c"})
    assert result.stdout == "a b;c|it's $(here)"


def test_large_output_on_both_streams_at_once(conn: Connection) -> None:
    size = 10_000_000
    result = conn.run(
        "(yes abcdefghi | head -c %s) & (yes 012345678 | head -c %s >&2); wait",
        size,
        size,
        timeout=120,
    )
    assert result.rc == 0
    assert result.stdout_bytes == (b"abcdefghi\n" * (size // 10))
    assert result.stderr_bytes == (b"012345678\n" * (size // 10))


def test_stdin_is_passed_exactly(conn: Connection) -> None:
    data = bytes(range(256)) * 4 + b"no newline"
    result = conn.run("cat; printf done >&2", stdin=data)
    assert (result.stdout_bytes, result.stderr_bytes, result.rc) == (data, b"done", 0)


def test_large_stdin_while_output_flows(conn: Connection) -> None:
    data = os.urandom(4_000_000)
    result = conn.run("tee /dev/stderr", stdin=data, timeout=120)
    assert result.stdout_bytes == data
    assert result.stderr_bytes == data


def test_commands_without_stdin_read_nothing(conn: Connection) -> None:
    # The shell's own stdin carries the protocol; a command must never see it.
    assert conn.run("cat").stdout_bytes == b""
    assert conn.run("echo next").stdout == "next\n"


def _wait_gone(pid: int, limit: float = 5.0) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("stdin", [None, b"x"], ids=["shell", "exec-channel"])
def test_timeout_kills_the_remote_command_and_its_children(
    conn: Connection, stdin: bytes | None
) -> None:
    pidfile = conn.run('mktemp -p "$HOME"').check().stdout.strip()
    started = time.monotonic()
    with pytest.raises(CommandTimeout) as caught:
        conn.run("sleep 300 & echo $! > %s; wait", pidfile, stdin=stdin, timeout=1.5)
    assert time.monotonic() - started < 10
    assert caught.value.timeout == 1.5
    pid = int(Path(pidfile).read_text())
    # The host is this machine: /proc shows whether the remote sleep is gone.
    assert _wait_gone(pid), f"sleep {pid} still running after the timeout"
    assert conn.run("echo usable").stdout == "usable\n"


def test_command_timeout_option_applies(connect) -> None:
    conn = connect(command_timeout=1)
    with pytest.raises(CommandTimeout):
        conn.run("sleep 30")
    assert conn.run("echo ok", timeout=5).stdout == "ok\n"


def test_a_dead_shell_fails_its_command_and_the_next_gets_a_new_one(conn: Connection) -> None:
    assert conn.run("true").ok
    with pytest.raises(HostUnreachable):
        conn.run("kill -KILL $PPID; sleep 1")
    assert conn.run("echo fresh").stdout == "fresh\n"


def test_threads_share_one_connection(conn: Connection) -> None:
    errors: list[str] = []

    def work(n: int) -> None:
        for i in range(25):
            result = conn.run("printf %s-%s; printf e%s >&2", n, i, n)
            if (result.stdout, result.stderr) != (f"{n}-{i}", f"e{n}"):
                errors.append(f"{n}/{i}: {result!r}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


def test_one_command_costs_about_one_round_trip(conn: Connection) -> None:
    conn.run("true")
    started = time.monotonic()
    for _ in range(50):
        conn.run("true")
    per_command = (time.monotonic() - started) / 50
    # A new channel per command costs sshd's session setup; the shell does not.
    channel_started = time.monotonic()
    for _ in range(10):
        conn.run("true", stdin=b"")
    per_channel = (time.monotonic() - channel_started) / 10
    assert per_command < per_channel


def test_put_then_get_round_trips_with_mode(conn: Connection) -> None:
    home = f"/home/{sshd.USER}"
    data = b"\x00line\nno newline\xff"
    conn.put(data, f"{home}/hk-put", mode=0o640)
    assert conn.get(f"{home}/hk-put") == data
    assert conn.run("stat -c %%a %s", f"{home}/hk-put").stdout == "640\n"
    conn.put(b"second", f"{home}/hk-put")
    assert conn.get(f"{home}/hk-put") == b"second"
    assert conn.run("stat -c %%a %s", f"{home}/hk-put").stdout == "640\n"
    assert conn.run("ls -A %s", home).stdout.count(".hostkit.") == 0


def test_chatty_login_shell_does_not_leak_into_results(connect) -> None:
    # This user's ~/.bashrc prints on both streams whenever sshd starts bash.
    conn = connect(sshd.NOPASSWD_USER)
    assert conn.run("echo $0 >/dev/null; printf clean").stdout_bytes == b"clean"
    # Still one long-lived shell (the same parent each time), not a channel per command.
    assert conn.run("echo $PPID").stdout == conn.run("echo $PPID").stdout
    assert conn.run("printf e >&2").stderr_bytes == b"e"
    with_stdin = conn.run("cat; printf x >&2", stdin=b"in")
    assert (with_stdin.stdout_bytes, with_stdin.stderr_bytes) == (b"in", b"x")
