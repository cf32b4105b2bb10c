import pytest

from kit.errors import CommandError, CommandTimeout, KitValueError
from kit.runner import commands
from tests.local.recording import RecordingConnection


@pytest.fixture
def conn():
    return RecordingConnection()


def test_run_returns_stdout_and_quotes_every_argument(conn, tmp_path):
    hostile = "a b; touch " + str(tmp_path / "pwned")
    assert commands.run(conn, "printf '%%s' %s", hostile) == hostile
    assert not (tmp_path / "pwned").exists()


def test_run_and_must_run_raise_command_error_carrying_the_result(conn):
    for fn in (commands.run, commands.must_run):
        with pytest.raises(CommandError) as info:
            fn(conn, "echo oops >&2; exit 3")
        assert info.value.result.rc == 3
        assert "oops" in str(info.value)


def test_check_answers_with_the_exit_status(conn):
    assert commands.check(conn, "test -d %s", "/")
    assert not commands.check(conn, "test -d %s", "/nonexistent/dir")


def test_run_with_options_passes_env_and_stdin_and_returns_bytes(conn):
    out, err = commands.run_with_options(
        conn, "cat; printf '%s' \"$GREETING\" >&2", env={"GREETING": "hi there"}, stdin=b"\xff\n"
    )
    assert (out, err) == (b"\xff\n", b"hi there")
    with pytest.raises(KitValueError):
        commands.run_with_options(conn, "true", env={"BAD NAME": "x"})


def test_timeout_kills_the_command(conn):
    with pytest.raises(CommandTimeout):
        commands.run(conn, "sleep 5", timeout=0.3)
