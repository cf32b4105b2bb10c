"""Result and CommandError: what callers see when a command fails."""

from __future__ import annotations

import pytest

from kit.connection import Result
from kit.errors import CommandError, CommandTimeout, KitError


def test_ok_and_check() -> None:
    good = Result("true", 0, b"", b"")
    assert good.ok
    assert good.check() is good
    bad = Result("false", 1, b"", b"")
    assert not bad.ok
    with pytest.raises(CommandError) as caught:
        bad.check()
    assert caught.value.result is bad
    assert isinstance(caught.value, KitError)


def test_text_accessors_decode_with_replacement() -> None:
    result = Result("x", 0, "héllo".encode() + b"\xff", b"\xfeerr")
    assert result.stdout == "héllo\ufffd"
    assert result.stderr == "\ufffderr"
    assert result.stdout_bytes.endswith(b"\xff")


def test_error_message_names_command_code_and_stderr() -> None:
    error = CommandError(Result("ls /nope", 2, b"", b"ls: cannot access '/nope'\n"))
    assert str(error) == "command exited 2: ls /nope: ls: cannot access '/nope'"


def test_long_stderr_is_cut_in_the_message_but_kept_in_the_result() -> None:
    err = b"e" * 5000
    error = CommandError(Result("cmd", 1, b"", err))
    assert len(str(error)) < 600
    assert str(error).endswith("...")
    assert error.result.stderr_bytes == err


def test_custom_message() -> None:
    error = CommandError(Result("cmd", 1, b"", b""), "probe failed")
    assert str(error) == "probe failed"


def test_result_is_immutable() -> None:
    result = Result("x", 0, b"", b"")
    with pytest.raises(AttributeError):
        result.rc = 1  # type: ignore[misc]


def test_timeout_is_a_timeout_error() -> None:
    error = CommandTimeout("sleep 9", 1.5)
    assert isinstance(error, TimeoutError)
    assert "1.5s" in str(error) and "sleep 9" in str(error)


def test_a_timed_out_script_is_named_by_its_first_line() -> None:
    script = "sh -c '# hostkit facts: one POSIX sh script\n" + "echo probe\n" * 500 + "'"
    message = str(CommandTimeout(script, 60))
    assert message == "command timed out after 60s: sh -c '# hostkit facts: one POSIX sh script …"
    long_line = "printf " + "x" * 300
    assert len(str(CommandTimeout(long_line, 1))) < 170
    assert str(CommandTimeout(long_line, 1)).endswith("xx…")


def test_a_failed_script_is_one_line_and_keeps_the_whole_command() -> None:
    script = "sh -c 'set -e\ndest=/etc/x/y\nmkdir -p \"$dest\"\n'"
    stderr = b"mkdir: cannot create directory '/etc/x': Read-only file system\nsecond line\n"
    error = CommandError(Result(script, 1, b"", stderr))
    assert str(error) == (
        "command exited 1: sh -c 'set -e …: mkdir: cannot create directory '/etc/x':"
        " Read-only file system | second line"
    )
    assert error.result.command == script
