"""The shipped catalog over real hosts: a host the run cannot look at (unreachable, or sudo
refusing) is one line with the reason and the option that fixes it; the failing checks of
the hosts it can look at are one summary line each; and JUnit keeps an error per check."""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET

import pytest

from tests.ssh import sshd

CATALOG = ["--pyargs", "hostkit_catalog.checks", "--profile", "kubernetes-node"]


@pytest.fixture
def dead() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"ssh://127.0.0.1:{sock.getsockname()[1]}"


def section(out: str, title: str) -> list[str]:
    lines = out.split(f" {title} =", 1)[1].splitlines()[1:]
    return lines[: next((i for i, ln in enumerate(lines) if ln.startswith("=")), None)]


def test_three_hosts_one_unreachable(pytester, this_kit, root_server, dead, monkeypatch):
    # What an operator's terminal shows: under CI (its CI or BUILD_NUMBER variable) pytest
    # prints each short summary entry whole, over several lines.
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("BUILD_NUMBER", raising=False)
    root = root_server.spec("root")
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        *CATALOG,
        f"--hosts=local://,{root},{dead}",
        f"--known-hosts={root_server.known_hosts}",
        f"--ssh-identity-file={root_server.client_key}",
        "--junitxml=junit.xml",
    )
    out = result.stdout.str()
    lines = out.splitlines()
    port = dead.rpartition(":")[2]
    # The reason once, with where to look; otherwise the host has its progress lines and
    # its row in the table, and not one line per check.
    assert sum("refused" in ln.lower() for ln in lines) == 1, out
    (reason,) = section(out, "unreachable hosts")
    assert reason.startswith(f"{dead}: ") and "sshd listens" in reason
    naming = [ln for ln in lines if f":{port}" in ln]
    progress = [ln for ln in naming if re.match(rf"^\S+\.py \[{re.escape(dead)}\] E+", ln)]
    table = [ln for ln in section(out, "hostkit compliance") if ln.startswith(dead)]
    assert len(naming) == len(progress) + len(table) + 1, naming
    assert "Traceback" not in out and "ERROR at setup" not in out
    # The reachable hosts: one short summary line per check that failed or errored.
    rows = {ln.split()[0]: ln.split() for ln in section(out, "hostkit compliance")[2:]}
    failing = sum(int(rows[h][2]) + int(rows[h][6]) for h in ("local://", root))
    assert failing > 0, out
    summary = section(out, "short test summary info")
    assert len(summary) == failing, summary
    assert all(port not in ln for ln in summary)
    # JUnit: every check of the unreachable host is an error carrying the reason.
    cases = [c for c in ET.parse(pytester.path / "junit.xml").iter("testcase")]
    down = [c for c in cases if f":{port}" in c.get("name")]
    assert len(down) == int(rows[dead][6]) > 0
    assert all("Connection refused" in c.find("error").get("message") for c in down)


def test_missing_sudo_password_is_one_line_per_host(pytester, this_kit, server):
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        *CATALOG,
        f"--hosts={server.spec(sshd.USER)}",
        f"--known-hosts={server.known_hosts}",
        f"--ssh-identity-file={server.client_key}",
        "--junitxml=junit.xml",
    )
    out = result.stdout.str()
    assert "Traceback" not in out and "SudoError" not in out and "base.py" not in out, out
    (line,) = section(out, "hosts where sudo refused")
    assert line.startswith(f"{server.spec(sshd.USER)}: sudo failed: a password is required")
    assert "--sudo-password-env" in line and "--sudo-password-file" in line
    stopped = int(re.search(r"\((\d+) checks? could not run\)", line).group(1))
    assert stopped > 0
    errors = [
        c.find("error")
        for c in ET.parse(pytester.path / "junit.xml").iter("testcase")
        if c.find("error") is not None
    ]
    assert len(errors) == stopped
    assert all("sudo failed: a password is required" in e.get("message") for e in errors)
