"""Option mistakes stop the run before collection: one line naming the option, exit code 4."""

from __future__ import annotations

import pytest

from kit.plugin.outcomes import EXIT_USAGE

CHECKS = """
from kit.catalog.check import check

@check("t.one", "first")
def test_one(conn):
    assert conn.run("true").ok
"""


def refused(pytester: pytest.Pytester, *args: str) -> str:
    """The run's one line of output, after checking it is a usage error raised before collection."""
    pytester.makepyfile(test_checks=CHECKS)
    result = pytester.runpytest_subprocess(*args)
    assert result.ret == EXIT_USAGE, result.stdout.str() + result.stderr.str()
    everything = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in everything and "INTERNALERROR" not in everything
    assert "collected" not in result.stdout.str()
    lines = [ln for ln in result.stderr.lines if ln.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("ERROR: ")
    return lines[0].removeprefix("ERROR: ")


def test_unknown_scheme(pytester):
    line = refused(pytester, "--hosts=http://foo")
    assert line == (
        "--hosts http://foo: unknown scheme 'http'; "
        "use ssh://[user@]host[:port], local:// or nsenter://[PID]"
    )


def test_testinfra_only_scheme_is_refused_by_fix_alone(pytester):
    # Without --fix, testinfra's docker backend runs it (tests/plugin/test_other_backends.py).
    pytester.makepyfile(test_checks=CHECKS)
    result = pytester.runpytest_subprocess("--hosts=local://,docker://box", "--fix")
    assert result.ret == EXIT_USAGE
    assert "collected" not in result.stdout.str()
    lines = [ln for ln in result.stderr.lines if ln.strip()]
    assert lines[0].startswith("ERROR: --fix cannot change hosts hostkit only reads")
    assert lines[1:] == ["  docker://box: testinfra's docker backend"]


def test_missing_identity_file(pytester):
    missing = pytester.path / "id_missing"
    line = refused(pytester, "--hosts=ssh://node1", f"--ssh-identity-file={missing}")
    assert line == f"--ssh-identity-file {missing}: no such file"


def test_known_hosts_is_a_directory(pytester):
    line = refused(pytester, "--hosts=ssh://node1", f"--known-hosts={pytester.path}")
    assert line == f"--known-hosts {pytester.path}: a directory, not a file"


def test_missing_known_hosts_names_accept_new(pytester):
    missing = pytester.path / "known_hosts"
    line = refused(pytester, "--hosts=ssh://node1", f"--known-hosts={missing}")
    assert line.startswith(f"--known-hosts {missing}: no such file")
    assert "--accept-new-host-keys" in line


def test_missing_known_hosts_with_accept_new_is_created_later(pytester):
    pytester.makepyfile(test_checks=CHECKS)
    result = pytester.runpytest_subprocess(
        f"--known-hosts={pytester.path / 'known_hosts'}", "--accept-new-host-keys"
    )
    assert result.ret == 0, result.stdout.str()


def test_sudo_password_env_unset(pytester, monkeypatch):
    monkeypatch.delenv("HK_NO_SUCH_PASSWORD", raising=False)
    line = refused(pytester, "--sudo", "--sudo-password-env=HK_NO_SUCH_PASSWORD")
    assert line == "--sudo-password-env: environment variable HK_NO_SUCH_PASSWORD is not set"


def test_sudo_password_file_missing(pytester):
    missing = pytester.path / "password"
    line = refused(pytester, "--sudo", f"--sudo-password-file={missing}")
    assert line == (
        f"--sudo-password-file: cannot read secret file {missing}: No such file or directory"
    )


def test_sudo_password_file_is_a_directory(pytester):
    line = refused(pytester, "--sudo", f"--sudo-password-file={pytester.path}")
    assert line == f"--sudo-password-file {pytester.path}: a directory, not a file"


def test_readable_sudo_password_file_never_shows(pytester):
    secret = pytester.path / "password"
    secret.write_text("s3cr3t-value\n")
    pytester.makepyfile(test_checks=CHECKS)
    result = pytester.runpytest_subprocess(f"--sudo-password-file={secret}", "--hosts=http://x")
    assert result.ret == EXIT_USAGE
    assert "s3cr3t-value" not in result.stdout.str() + result.stderr.str()


def test_fix_retry_without_fix(pytester):
    line = refused(pytester, "--hosts=local://", "--fix-retry")
    assert line == "--fix-retry makes again a fix an earlier run made: use it with --fix"


@pytest.mark.parametrize("ini", ["hostkit_lock_dir", "hostkit_runs_dir"])
@pytest.mark.parametrize("value", ["run/hostkit", "/run/../tmp/hostkit"])
def test_a_state_directory_that_is_not_absolute_and_plain(pytester, ini, value):
    # A relative directory would be made in whatever directory the login lands in, and
    # `..` lets a link send the lock or the record elsewhere.
    line = refused(pytester, "--hosts=local://", "--fix", "-o", f"{ini}={value}")
    assert line.startswith(f"{ini} {value!r}: ")
    assert "absolute" in line
