"""What a --fix costs in commands over a real sshd, counted where they cross the wire.

A plugin in the pytest subprocess counts every command sent (SSHConnection._exec: one
command, one round trip; tests/ssh/test_plain_batch.py) and leaves them alone.
"""

from __future__ import annotations

import pytest

from kit.facts.parse import MARKER as FACTS_SCRIPT
from tests.ssh import sshd
from tests.ssh.test_plain_batch import _root_args, _run, counted  # noqa: F401 - a fixture

SUITE = """
import os
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

MARK = os.environ["HK_MARK"]

@remediation(strategy="configure", disruption="low")
def set_mark(target):
    return files.write_file(target.conn, MARK, "set\\n")

@check("t.mark", "the mark is set", fix=set_mark)
def test_mark(host):
    assert host.file(MARK).exists, "no mark"
    assert host.file(MARK).content_string == "set\\n"

@check("t.passwd", "passwd and group are root's")
def test_passwd(host):
    assert host.file("/etc/passwd").user == "root"
    assert host.file("/etc/group").mode == 0o644

@check("t.hostname", "the host has a name")
def test_hostname(facts):
    assert facts.hostname
"""


@pytest.mark.usefixtures("counted")
def test_a_second_fix_sends_no_more_commands_than_a_check_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, root_server: sshd.Sshd
) -> None:
    mark = pytester.path / "mark"
    monkeypatch.setenv("HK_MARK", str(mark))
    pytester.makepyfile(test_costs=SUITE)
    fixing = [
        "--fix",
        "-o",
        f"hostkit_runs_dir={pytester.path / 'runs'}",
        "-o",
        f"hostkit_lock_dir={pytester.path / 'lock'}",
    ]
    args = _root_args(pytester, root_server)
    counts = {}
    # Twice each, so that the counted runs read as a run does once it has recorded its reads.
    runs = [("fix", fixing), ("check", []), ("check-again", []), ("fix-again", fixing)]
    for name, extra in runs:
        monkeypatch.setenv("HK_SENT", str(pytester.path / f"sent-{name}.json"))
        verdicts, sent = _run(pytester, name, *args, *extra)
        counts[name] = sent
        assert set(verdicts.values()) == {"passed"}, (name, verdicts)
    assert mark.read_text() == "set\n"
    assert len(counts["fix-again"]) <= len(counts["check-again"]), (
        f"check run: {len(counts['check-again'])} commands, second --fix: "
        f"{len(counts['fix-again'])}:\n" + "\n".join(c[:120] for c in counts["fix-again"])
    )


RECHECK = """
import os
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

MARK = os.environ["HK_MARK"]

@check("t.hostname", "the host has a name")
def test_a_hostname(facts):
    assert facts.hostname

@remediation(strategy="configure", disruption="low")
def set_mark(target):
    return files.write_file(target.conn, MARK, "set\\n")

@check("t.mark", "the mark is set", fix=set_mark)
def test_b_mark(host):
    assert host.file(MARK).exists, "no mark"
"""


@pytest.mark.usefixtures("counted")
def test_a_recheck_reads_what_its_check_reads_not_a_new_facts_gather(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, root_server: sshd.Sshd
) -> None:
    monkeypatch.setenv("HK_MARK", str(pytester.path / "mark"))
    monkeypatch.setenv("HK_SENT", str(pytester.path / "sent-fix.json"))
    pytester.makepyfile(test_recheck=RECHECK)
    verdicts, sent = _run(
        pytester,
        "fix",
        *_root_args(pytester, root_server),
        "--fix",
        "-o",
        f"hostkit_runs_dir={pytester.path / 'runs'}",
        "-o",
        f"hostkit_lock_dir={pytester.path / 'lock'}",
    )
    assert set(verdicts.values()) == {"passed"}, verdicts  # the mark's check was fixed
    gathers = [c for c in sent if FACTS_SCRIPT in c]
    # The one gather the facts check needed; the fixed check reads a file, not the facts.
    assert len(gathers) == 1, f"{len(gathers)} facts gathers in {len(sent)} commands"
