"""A plain testinfra file runs unchanged under hostkit, with the verdicts testinfra gives."""

from __future__ import annotations

import socket
import xml.etree.ElementTree as ET

import pytest

SUITE = """
import os

def test_passwd_file(host):
    f = host.file("/etc/passwd")
    assert f.exists and f.is_file
    assert f.user == "root"
    assert f.mode == 0o644
    assert f.contains("^root:")

def test_missing_file(host):
    assert host.file("/nonexistent/hostkit").exists

def test_tmp_is_dir(host):
    assert host.file("/tmp").is_directory

def test_sysctl_value(host):
    assert host.sysctl("kernel.ostype") == "Linux"

def test_sysctl_wrong(host):
    assert host.sysctl("kernel.ostype") == "Plan9"

def test_socket_listening(host):
    assert host.socket("tcp://127.0.0.1:" + os.environ["DROPIN_PORT"]).is_listening

def test_socket_not_listening(host):
    assert host.socket("tcp://127.0.0.1:1").is_listening

def test_package(host):
    assert host.package("bash").is_installed
    assert host.package("bash").version

def test_package_absent(host):
    assert host.package("hostkit-no-such-package").is_installed

def test_command_output(host):
    assert host.check_output("printf %s", "a b") == "a b"
    assert host.run("exit 3").rc == 3
    assert host.run_expect([0], "true").succeeded

def test_command_stderr(host):
    assert host.run("echo oops >&2; false").stderr == "oops\\n"

def test_exists_and_find(host):
    assert host.exists("sh")
    assert host.find_command("sh").endswith("/sh")

def test_service(host):
    assert host.service("hostkit-no-such-service").is_running
"""


def outcomes(path) -> dict[str, str]:
    verdicts = {}
    for case in ET.parse(path).iter("testcase"):
        name = case.get("name").split("[")[0]
        bad = case.find("failure") is not None or case.find("error") is not None
        verdicts[name] = (
            "skipped" if case.find("skipped") is not None else ("failed" if bad else "passed")
        )
    return verdicts


@pytest.fixture
def listener():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_plain_testinfra_suite_same_verdicts_under_hostkit(pytester, listener, monkeypatch):
    monkeypatch.setenv("DROPIN_PORT", str(listener))
    pytester.makepyfile(test_dropin=SUITE)
    plain = pytester.runpytest_subprocess("-p", "no:hostkit", "--junitxml=plain.xml")
    kit = pytester.runpytest_subprocess("--junitxml=kit.xml")
    plain_verdicts = outcomes(pytester.path / "plain.xml")
    kit_verdicts = outcomes(pytester.path / "kit.xml")
    assert len(plain_verdicts) == 13
    assert kit_verdicts == plain_verdicts
    # Both kinds of verdict occur, so agreement is not agreement on nothing.
    assert {"passed", "failed"} <= set(plain_verdicts.values())
    assert plain.ret == kit.ret == 1
    # Under hostkit the host is hostkit's: its id and the host property say so.
    kit.stdout.fnmatch_lines(["*hostkit compliance*", "local://*"])
    props = [
        p.get("value")
        for p in ET.parse(pytester.path / "kit.xml").iter("property")
        if p.get("name") == "host"
    ]
    assert props and set(props) == {"local://"}
    assert "hostkit compliance" not in plain.stdout.str()
