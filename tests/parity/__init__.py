"""testinfra's own module tests, run through testinfra's paramiko backend and through hostkit
against one target, verdict by verdict.

The tests are upstream's (upstream_modules.py, adapted from pytest-testinfra's
test/test_modules.py at the installed version, Apache-2.0). Many fail on a target that is
not upstream's test image; what matters is that each passes or fails the same way over
both backends. The ssh tier runs them against this machine's sshd, the hosts tier against a
disposable container.
"""

from __future__ import annotations

import os
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

HERE = Path(__file__).parent
HOST = "paramiko://root@target"
SCRATCH = "/tmp/hostkit-parity-d"  # where the adapted test_file works, on the target


def ssh_config(hostname: str, port: int, identity: str, known_hosts: str) -> str:
    """The user's ssh_config naming the target, as both backends read it."""
    return (
        "Host target\n"
        f"  HostName {hostname}\n"
        f"  Port {port}\n"
        f"  IdentityFile {identity}\n"
        f"  UserKnownHostsFile {known_hosts}\n"
    )


def compare(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    config: str,
    reset: Callable[[], None],
    *,
    disposable: bool = False,
    user: str = "root",
) -> tuple[dict[str, str], dict[str, str]]:
    """Both runs' verdicts by test name: (paramiko's, hostkit's).

    reset puts the target back as it was before the first run (the scratch directory
    gone), as upstream's runs each start from a fresh image. disposable: the target may
    be changed, so upstream's tests that change it (upstream_destructive.py) run too.
    user: who logs in; upstream's tests for root, or for a user with sudo who is not
    (upstream_sudo.py; testinfra's paramiko backend has no sudo password to give).
    """
    path = pytester.path / "ssh_config"
    path.write_text(config)
    upstream = "upstream_modules.py" if user == "root" else "upstream_sudo.py"
    shutil.copy(HERE / upstream, pytester.path / "test_upstream.py")
    if disposable:
        shutil.copy(HERE / "upstream_destructive.py", pytester.path / "test_destructive.py")
    shutil.copy(HERE / "parity_conftest.py", pytester.path / "conftest.py")
    root = str(HERE.parents[1])
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("PARITY_SSH_CONFIG", str(path))
    monkeypatch.setenv("PARITY_USER", user)
    host = HOST.replace("root@", f"{user}@")
    try:
        reset()
        monkeypatch.setenv("PARITY_BACKEND", "paramiko")
        theirs = _verdicts(pytester, host, "-p", "no:hostkit")
        reset()
        monkeypatch.setenv("PARITY_BACKEND", "hostkit")
        ours = _verdicts(pytester, host, f"--hosts={host}", f"--ssh-config={path}")
    finally:
        reset()
    return theirs, ours


def compare_installed(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    backend_class: str,
    reset: Callable[[], None],
    *args: str,
) -> tuple[dict[str, str], dict[str, str]]:
    """Both runs' verdicts by test name on one of testinfra's own backends (args name the
    host): (without hostkit's plugin, with it). Every test asserts its host ran on
    backend_class, so neither run can have gone through hostkit's connections instead.
    """
    shutil.copy(HERE / "upstream_modules.py", pytester.path / "test_upstream.py")
    shutil.copy(HERE / "parity_conftest.py", pytester.path / "conftest.py")
    root = str(HERE.parents[1])
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("PARITY_BACKEND", "testinfra")
    monkeypatch.setenv("PARITY_BACKEND_CLASS", backend_class)
    host = ""  # testinfra's ids name the host: the caller strips them from the names
    try:
        reset()
        without = _verdicts(pytester, host, *args, "-p", "no:hostkit")
        reset()
        installed = _verdicts(pytester, host, *args)
    finally:
        reset()
    return without, installed


def assert_same(theirs: dict[str, str], ours: dict[str, str], at_least: int = 25) -> None:
    assert len(theirs) >= at_least and "passed" in theirs.values(), theirs
    differ = {
        name: (theirs[name], ours.get(name)) for name in theirs if theirs[name] != ours.get(name)
    }
    assert not differ, f"verdicts differ (paramiko, hostkit): {differ}"
    assert set(ours) == set(theirs)


def _verdicts(pytester: pytest.Pytester, host: str, *args: str) -> dict[str, str]:
    report = pytester.path / f"junit-{len(list(pytester.path.glob('junit-*')))}.xml"
    result = pytester.runpytest_subprocess(*args, f"--junitxml={report}", "-p", "no:cacheprovider")
    if not report.exists():
        pytest.fail(result.stdout.str() + result.stderr.str())
    verdicts = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        # hostkit's run adds the host to each id, as testinfra's --hosts does.
        name = case.get("name", "")
        if host:
            name = name.replace(f"[{host}]", "")
            name = name.replace(f"{host}-", "").replace(f"-{host}", "")
        verdicts[name] = kinds[0] if kinds else "passed"
    return verdicts
