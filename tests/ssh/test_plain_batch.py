"""A plain testinfra suite reads each host in about one round trip, with testinfra's verdicts.

Each suite runs in a pytest subprocess against the tier's real sshd, twice: the first run
records the module reads in pytest's cache, the second answers them from one batch per
host. A plugin in the subprocess counts what crosses the wire (SSHConnection._exec: one
command, one round trip) and leaves it alone.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from kit.plugin import batch
from tests import parity
from tests.ssh import sshd

COUNTER = """
import json, os
import pytest
from kit.connection import ssh

SENT = []
_real = ssh.SSHConnection._exec

def _counting(self, cmdline, *, stdin, timeout):
    SENT.append(cmdline)
    return _real(self, cmdline, stdin=stdin, timeout=timeout)

ssh.SSHConnection._exec = _counting
STARTED = []

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    if not STARTED:
        STARTED.append(len(SENT))

@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    with open(os.environ["HK_SENT"], "w") as fh:
        json.dump(SENT, fh)
    with open(os.environ["HK_SENT"] + ".start", "w") as fh:
        json.dump(STARTED[:1], fh)
"""

READS_ONLY = """
import pytest

@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/group", "/etc/hostkit-no-such-file"])
def test_file(host, path):
    f = host.file(path)
    assert f.exists
    assert f.user == "root"
    assert f.mode == 0o644

def test_package(host):
    assert host.package("openssh-server").is_installed

def test_sysctl(host):
    assert host.sysctl("kernel.randomize_va_space") in (0, 1, 2)

def test_user(host):
    assert host.user("root").uid == 0
    assert host.user("root").home == "/root"

def test_group(host):
    assert host.group("root").gid == 0

def test_command(host):
    assert host.exists("ls")
"""


def _run(pytester: pytest.Pytester, name: str, *args: str) -> tuple[dict[str, str], list[str]]:
    """One pytest subprocess: its verdicts by test name, and the commands it sent."""
    sent = pytester.path / f"sent-{name}.json"
    report = pytester.path / f"junit-{name}.xml"
    pytester.runpytest_subprocess(
        "-p", "hk_counter", f"--junitxml={report}", *args, "-o", f"cache_dir={pytester.path}/c"
    )  # fmt: skip
    assert report.exists(), f"{name}: pytest wrote no report"
    verdicts = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        kinds = [child.tag for child in case if child.tag in ("failure", "error", "skipped")]
        verdicts[case.get("name", "")] = kinds[0] if kinds else "passed"
    return verdicts, json.loads(sent.read_text()) if sent.exists() else []


@pytest.fixture
def counted(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, this_kit: None) -> None:
    pytester.makepyfile(hk_counter=COUNTER)
    monkeypatch.setenv("HK_SENT", str(pytester.path / "sent.json"))


def _runs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, *args: str
) -> list[tuple[dict[str, str], list[str]]]:
    """The suite run twice: recording, then answered from batches."""
    out = []
    for name in ("first", "second"):
        monkeypatch.setenv("HK_SENT", str(pytester.path / f"sent-{name}.json"))
        out.append(_run(pytester, name, *args))
    return out


def _root_args(pytester: pytest.Pytester, server: sshd.Sshd) -> list[str]:
    return [
        f"--hosts={server.spec('root')}",
        f"--ssh-identity-file={server.client_key}",
        f"--known-hosts={server.known_hosts}",
    ]


def test_second_run_reads_the_host_in_one_round_trip(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, counted: None, root_server
) -> None:
    pytester.makepyfile(test_reads=READS_ONLY)
    (first, sent_first), (second, sent_second) = _runs(
        pytester, monkeypatch, *_root_args(pytester, root_server)
    )
    assert second == first and "passed" in first.values() and "failure" in first.values()
    assert len(sent_first) >= 15, sent_first
    # The first run's reads, all in one command.
    assert len(sent_second) == 1, sent_second
    assert batch.MARK in sent_second[0] and "/etc/hostkit-no-such-file" in sent_second[0]


WRITE_THEN_READ = """
P = "/tmp/hostkit-batch-{tag}"

def test_absent_at_first(host):
    assert not host.file(P).exists

def test_write_then_read(host):
    assert not host.file(P).exists
    host.run("touch %s", P)
    assert host.file(P).exists
    assert host.file(P).size == 0
    host.run("echo data > %s", P)
    assert host.file(P).size == 5
    host.run("rm -f %s", P)

def test_gone_again(host):
    assert not host.file(P).exists
"""


def test_a_read_after_a_write_sees_the_write(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, counted: None, root_server
) -> None:
    tag = pytester.path.name
    pytester.makepyfile(test_writes=WRITE_THEN_READ.format(tag=tag))
    try:
        (first, sent_first), (second, sent_second) = _runs(
            pytester, monkeypatch, *_root_args(pytester, root_server)
        )
    finally:
        Path(f"/tmp/hostkit-batch-{tag}").unlink(missing_ok=True)
    assert set(first.values()) == {"passed"}, first
    assert second == first
    # Batched: the reads before the first write rode in one command...
    assert len(sent_second) < len(sent_first), (sent_first, sent_second)
    assert any(batch.MARK in c for c in sent_second)
    # ...and each write ran live, as itself.
    assert sum("touch " in c and batch.MARK not in c for c in sent_second) == 1


SUDO_CONTEXT = """
def test_who_reads(host):
    # /root is 0700: only root can see into it.
    assert host.user().name == "{user}"
    assert not host.file("/root/.").exists
    with host.sudo():
        assert host.user().name == "root"
        assert host.file("/root/.").exists
    assert host.user().name == "{user}"
    assert not host.file("/root/.").exists
"""


def test_a_sudo_read_is_never_answered_from_the_login_users_batch(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, counted: None, server
) -> None:
    pytester.makepyfile(test_sudo=SUDO_CONTEXT.format(user=sshd.USER))
    monkeypatch.setenv("HK_SUDO_PASSWORD", server.users[sshd.USER])
    args = [
        f"--hosts={server.spec(sshd.USER)}",
        f"--ssh-identity-file={server.client_key}",
        f"--known-hosts={server.known_hosts}",
        "--sudo-password-env=HK_SUDO_PASSWORD",
    ]
    (first, _), (second, sent_second) = _runs(pytester, monkeypatch, *args)
    assert set(first.values()) == {"passed"}, first
    assert second == first
    batches = [c for c in sent_second if batch.MARK in c]
    # One batch as the login user, one under sudo, each holding its own reads.
    assert len(batches) == 2, sent_second
    assert any("sudo" in c for c in batches)


def test_upstream_module_tests_same_verdicts_when_answered_from_batches(
    pytester: pytest.Pytester, root_server: sshd.Sshd, monkeypatch: pytest.MonkeyPatch, counted
) -> None:
    """testinfra's own module tests: paramiko, then hostkit recording, then hostkit batched."""
    config = parity.ssh_config(
        root_server.host,
        root_server.port,
        str(root_server.client_key),
        str(root_server.known_hosts),
    )
    path = pytester.path / "ssh_config"
    path.write_text(config)
    shutil.copy(parity.HERE / "upstream_modules.py", pytester.path / "test_upstream.py")
    shutil.copy(parity.HERE / "parity_conftest.py", pytester.path / "conftest.py")
    monkeypatch.setenv("PARITY_SSH_CONFIG", str(path))

    def reset() -> None:
        shutil.rmtree(parity.SCRATCH, ignore_errors=True)

    def names(verdicts: dict[str, str]) -> dict[str, str]:
        host = parity.HOST
        return {
            k.replace(f"[{host}]", "").replace(f"{host}-", "").replace(f"-{host}", ""): v
            for k, v in verdicts.items()
        }

    try:
        reset()
        monkeypatch.setenv("PARITY_BACKEND", "paramiko")
        monkeypatch.setenv("HK_SENT", str(pytester.path / "sent-theirs.json"))
        theirs, _ = _run(pytester, "theirs", "-p", "no:hostkit")
        monkeypatch.setenv("PARITY_BACKEND", "hostkit")
        runs = []
        for name in ("first", "second"):
            reset()
            monkeypatch.setenv("HK_SENT", str(pytester.path / f"sent-{name}.json"))
            runs.append(_run(pytester, name, f"--hosts={parity.HOST}", f"--ssh-config={path}"))
    finally:
        reset()
    (first, sent_first), (second, sent_second) = runs
    parity.assert_same(names(theirs), names(first))
    parity.assert_same(names(theirs), names(second))
    assert any(batch.MARK in c for c in sent_second)
    # Upstream's tests write as they go (host.run), and every write runs live and drops
    # the batches; what is left is still well under the first run's count.
    assert len(sent_second) < len(sent_first) * 0.7, (len(sent_first), len(sent_second))


OWN_READS = """
def test_own_commands(host):
    assert host.run("grep -q '^root:' /etc/passwd").rc == 0
    assert host.run("grep -c . /etc/passwd | cut -c1-9").stdout.strip().isdigit()
    assert host.run("uname -s").stdout.strip() == "Linux"

def test_modules(host):
    assert host.file("/etc/passwd").is_file
    assert host.sysctl("kernel.ostype") == "Linux"
"""


def test_a_suites_own_reads_ride_in_each_hosts_batch_sent_before_the_first_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, counted: None, root_server
) -> None:
    """Two hosts (one sshd under two names): one batch each, both out before any test runs."""
    config = pytester.path / "ssh_config"
    config.write_text(
        "".join(
            f"Host {name}\n  HostName {root_server.host}\n  Port {root_server.port}\n"
            f"  IdentityFile {root_server.client_key}\n"
            f"  UserKnownHostsFile {root_server.known_hosts}\n"
            for name in ("node-a", "node-b")
        )
    )
    pytester.makepyfile(test_own=OWN_READS)
    args = ["--hosts=ssh://root@node-a,ssh://root@node-b", f"--ssh-config={config}"]
    (first, sent_first), (second, sent_second) = _runs(pytester, monkeypatch, *args)
    assert set(first.values()) == {"passed"}, first
    assert second == first and len(first) == 4, first
    assert len(sent_first) >= 10, sent_first
    assert len(sent_second) == 2, sent_second
    assert all(batch.MARK in c and "^root:" in c and "cut -c1-9" in c for c in sent_second)
    started = json.loads((pytester.path / "sent-second.json.start").read_text())
    assert started == [2], "the batches went out as the tests ran, not before"
