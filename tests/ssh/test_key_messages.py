"""What a compliance run says when the real sshd's key is unknown or no client key is accepted:
one line per host, naming the option that fixes it, and the unreachable exit code."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from kit.plugin.outcomes import EXIT_UNREACHABLE
from tests.ssh import sshd

CHECKS = """
from kit.catalog.check import check

@check("t.one", "first")
def test_one(conn):
    assert conn.run("true").ok

@check("t.two", "second")
def test_two(conn):
    assert conn.run("true").ok
"""


def _fingerprint(pub: Path) -> str:
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, check=True)
    return out.stdout.decode().split()[1]


def _unreachable_lines(result: pytest.RunResult) -> list[str]:
    lines = result.stdout.str().split("= unreachable hosts =", 1)[1].splitlines()[1:]
    # The section ends at the next one, or at the blank line before pytest's last line.
    return lines[: next(i for i, ln in enumerate(lines) if not ln or ln.startswith("="))]


def _run(pytester: pytest.Pytester, server: sshd.Sshd, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_remote=CHECKS)
    return pytester.runpytest_subprocess(f"--hosts={server.spec(sshd.USER)}", *args)


def test_unknown_host_key_names_both_options_and_the_fingerprint(pytester, server):
    known = pytester.path / "known_hosts"
    known.write_text("")
    result = _run(
        pytester, server, f"--known-hosts={known}", f"--ssh-identity-file={server.client_key}"
    )
    assert result.ret == EXIT_UNREACHABLE, result.stdout.str()
    (line,) = _unreachable_lines(result)
    assert "--known-hosts" in line and "--accept-new-host-keys" in line, line
    assert _fingerprint(server.host_key.with_suffix(".pub")) in line
    assert "Traceback" not in result.stdout.str()
    # Each check says only that its host is unreachable; the reason is not repeated.
    assert result.stdout.str().count("--accept-new-host-keys") == 1


def test_no_key_accepted_names_identity_file_and_agent(pytester, server, tmp_path):
    stranger = sshd.keygen(tmp_path / "stranger")
    result = _run(
        pytester, server, f"--known-hosts={server.known_hosts}", f"--ssh-identity-file={stranger}"
    )
    assert result.ret == EXIT_UNREACHABLE, result.stdout.str()
    (line,) = _unreachable_lines(result)
    assert f"no key accepted for user {sshd.USER}" in line, line
    assert "--ssh-identity-file" in line and "ssh-agent" in line, line
    # The host's checks have no error block each: its one line above says why.
    assert "ERROR at setup" not in result.stdout.str()
