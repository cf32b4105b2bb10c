"""testinfra's own module tests give the same verdicts through hostkit as through paramiko.

The tests are upstream's (tests/ssh/testinfra_upstream/upstream_modules.py, adapted
from pytest-testinfra's test/test_modules.py at the installed version, Apache-2.0).
Many fail here, as this machine is not upstream's test image; what matters is that
each fails or passes the same way over both backends.
"""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.ssh import sshd

# pytest subprocesses import the kit these tests belong to.
pytestmark = pytest.mark.usefixtures("this_kit")

UPSTREAM = Path(__file__).parent / "testinfra_upstream"
HOST = "paramiko://root@target"
SCRATCH = "/tmp/hostkit-parity-d"  # where the adapted test_file works


def _verdicts(pytester: pytest.Pytester, *args: str) -> dict[str, str]:
    report = pytester.path / f"junit-{len(list(pytester.path.glob('junit-*')))}.xml"
    result = pytester.runpytest_subprocess(*args, f"--junitxml={report}", "-p", "no:cacheprovider")
    if not report.exists():
        pytest.fail(result.stdout.str() + result.stderr.str())
    verdicts = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        # hostkit's run adds the host to each id, as testinfra's --hosts does.
        name = case.get("name", "").replace(f"[{HOST}]", "")
        name = name.replace(f"{HOST}-", "").replace(f"-{HOST}", "")
        verdicts[name] = kinds[0] if kinds else "passed"
    return verdicts


def test_upstream_module_tests_same_verdicts(
    pytester: pytest.Pytester, root_server: sshd.Sshd, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = pytester.path / "ssh_config"
    config.write_text(
        "Host target\n"
        f"  HostName {root_server.host}\n"
        f"  Port {root_server.port}\n"
        f"  IdentityFile {root_server.client_key}\n"
        f"  UserKnownHostsFile {root_server.known_hosts}\n"
    )
    shutil.copy(UPSTREAM / "upstream_modules.py", pytester.path / "test_upstream.py")
    shutil.copy(UPSTREAM / "parity_conftest.py", pytester.path / "conftest.py")
    try:
        monkeypatch.setenv("PARITY_BACKEND", "paramiko")
        monkeypatch.setenv("PARITY_SSH_CONFIG", str(config))
        theirs = _verdicts(pytester, "-p", "no:hostkit")
        # Each run starts from the same host, as upstream's runs start from a fresh image.
        shutil.rmtree(SCRATCH, ignore_errors=True)
        monkeypatch.setenv("PARITY_BACKEND", "hostkit")
        ours = _verdicts(pytester, f"--hosts={HOST}", f"--ssh-config={config}")
    finally:
        shutil.rmtree(SCRATCH, ignore_errors=True)
    assert len(theirs) >= 25 and "passed" in theirs.values(), theirs
    differ = {
        name: (theirs[name], ours.get(name)) for name in theirs if theirs[name] != ours.get(name)
    }
    assert not differ, f"verdicts differ (paramiko, hostkit): {differ}"
    assert set(ours) == set(theirs)
