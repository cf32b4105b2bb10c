"""--fix in a serial run over several real sshds: the hosts of a wave are fixed at once.

Each host is an sshd of its own. Every fix waits on its host, up to WAIT seconds, until
every fix it should overlap with has started, and writes down which had: run one host
after another, each fix would see only itself. That is proof by order, not by timing:
a slow machine makes the fixes take longer, never changes what each one saw.
"""

from __future__ import annotations

import contextlib
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ssh import sshd
from tests.tiers import unavailable

HOSTS = 3
WAIT = 10  # seconds a fix waits for the others to start; run serially, it waits alone

# The host tells itself apart by the port its sshd listens on, as the fix session sees it.
BARRIER = f"""d=$1; want=$2; me=${{SSH_CONNECTION##* }}
: > "$d/start-$me"
i=0
while [ "$(ls -- "$d" | grep -c '^start-')" -lt "$want" ] && [ "$i" -lt {WAIT * 20} ]; do
  sleep 0.05; i=$((i + 1))
done
ls -- "$d" | grep '^start-' | sort > "$d/seen-$me"
: > "$d/end-$me"
"""

SUITE = """
import os
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files, journal, lifeline

DIR = os.environ["HK_DIR"]
OVERLAP = os.environ["HK_OVERLAP"]  # how many fixes should be under way together
LOSE = os.environ.get("HK_LOSE", "")  # the port of the host whose fix loses its connection
RAISE = os.environ.get("HK_RAISE", "")  # the port of the host whose fix raises
WRONG = os.environ.get("HK_WRONG", "")  # the port of the host whose fix does not take

def port(conn):
    return conn.run("echo ${SSH_CONNECTION##* }").stdout.strip()

@remediation(strategy="configure", disruption="low")
def set_mark(target):
    me = port(target.conn)
    target.conn.run("sh %s %s %s", DIR + "/barrier.sh", DIR + "/events", OVERLAP)
    if me == RAISE:
        raise RuntimeError("cannot set the mark on " + me)
    if me == LOSE:
        session = lifeline.read(target.conn).holder()
        with journal.live_step(target.conn, "end the session"):
            target.conn.run("kill -KILL %s", str(session.pid))
    content = "wrong\\n" if me == WRONG else "set\\n"
    return files.write_file(target.conn, DIR + "/mark-" + me, content)

@check("t.mark", "the host's mark is set", fix=set_mark)
def test_a_mark(conn):
    me = port(conn)
    assert conn.run("cat %s", DIR + "/mark-" + me).stdout == "set\\n", "mark not set"

@check("t.after", "a later check of the same host sees the fix before it")
def test_b_after(conn):
    assert conn.run("test -e %s", DIR + "/mark-" + port(conn)).rc == 0, "no mark yet"
"""


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[sshd.Sshd]]:
    """HOSTS sshds taking root, all reached with the first one's client key."""
    with contextlib.ExitStack() as stack:
        servers = []
        for _ in range(HOSTS):
            try:
                servers.append(stack.enter_context(sshd.running(users=False)))
            except (sshd.SshdUnavailable, OSError) as exc:
                unavailable("ssh", str(exc))
        key = servers[0].client_key.with_suffix(".pub").read_text()
        for server in servers[1:]:
            with open(server.root / "authorized_keys", "a") as out:
                out.write(key)
        yield servers


def run(
    pytester: pytest.Pytester,
    fleet: list[sshd.Sshd],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    overlap: int = HOSTS,
    **roles: sshd.Sshd,
) -> tuple[pytest.RunResult, Path]:
    work = pytester.path / "hosts"
    (work / "events").mkdir(parents=True)
    (work / "barrier.sh").write_text(BARRIER)
    known = pytester.path / "known_hosts"
    known.write_text("".join(s.known_hosts_line() for s in fleet))
    pytester.makepyfile(test_marks=SUITE)
    root = str(Path(__file__).resolve().parents[2])
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    )
    monkeypatch.setenv("HK_DIR", str(work))
    monkeypatch.setenv("HK_OVERLAP", str(overlap))
    for role, server in roles.items():
        monkeypatch.setenv(f"HK_{role.upper().rstrip('_')}", str(server.port))
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "--hosts=" + ",".join(s.spec("root") for s in fleet),
        f"--known-hosts={known}",
        f"--ssh-identity-file={fleet[0].client_key}",
        "--fix",
        "-o",
        f"hostkit_runs_dir={pytester.path / 'runs'}",
        "-o",
        f"hostkit_lock_dir={pytester.path / 'lock'}",
        "--junitxml=junit.xml",
        *args,
    )
    return result, work


def cases(pytester: pytest.Pytester) -> list[tuple[str, dict[str, list[str]]]]:
    """Each JUnit test case in report order, with every value of each property."""
    out = []
    for case in ET.parse(pytester.path / "junit.xml").iter("testcase"):
        props: dict[str, list[str]] = {}
        for prop in case.iter("property"):
            props.setdefault(prop.get("name", ""), []).append(prop.get("value", ""))
        out.append((case.get("name", ""), props))
    return out


def port_of(case: str) -> int:
    return int(case.rsplit(":", 1)[1].rstrip("]"))


def by_port(pytester: pytest.Pytester, name: str) -> dict[int, dict[str, list[str]]]:
    return {port_of(case): props for case, props in cases(pytester) if case.startswith(name + "[")}


def seen(work: Path, server: sshd.Sshd) -> list[int]:
    """The hosts whose fix had started when this host's fix ended."""
    lines = (work / "events" / f"seen-{server.port}").read_text().split()
    return sorted(int(line.removeprefix("start-")) for line in lines)


def test_the_hosts_of_a_wave_are_fixed_at_once_and_reported_host_by_host(
    pytester: pytest.Pytester, fleet: list[sshd.Sshd], monkeypatch: pytest.MonkeyPatch
) -> None:
    result, work = run(pytester, fleet, monkeypatch)
    assert result.ret == 0, result.stdout.str()
    ports = sorted(s.port for s in fleet)
    for server in fleet:
        # Every host's fix was under way while each of the others started.
        assert seen(work, server) == ports, f"{server.port} saw only {seen(work, server)}"
    marks = by_port(pytester, "test_a_mark")
    assert {p: props["outcome"] for p, props in marks.items()} == {p: ["fixed"] for p in ports}
    # Reported host by host, each host's checks in their order; the later check saw the fix.
    order = [(name.split("[")[0], port_of(name)) for name, _ in cases(pytester)]
    assert order == [(t, s.port) for s in fleet for t in ("test_a_mark", "test_b_after")]
    after = by_port(pytester, "test_b_after")
    assert {p: props["outcome"] for p, props in after.items()} == {p: ["passed"] for p in ports}


def test_one_hosts_failed_fix_or_lost_connection_leaves_the_others_alone(
    pytester: pytest.Pytester, fleet: list[sshd.Sshd], monkeypatch: pytest.MonkeyPatch
) -> None:
    lose, broken, fine = fleet
    result, work = run(pytester, fleet, monkeypatch, lose=lose, raise_=broken)
    assert result.ret == 1
    for server in fleet:
        assert seen(work, server) == sorted(s.port for s in fleet)
    marks, after = by_port(pytester, "test_a_mark"), by_port(pytester, "test_b_after")
    assert marks[fine.port]["outcome"] == ["fixed"]
    assert after[fine.port]["outcome"] == ["passed"]
    assert marks[broken.port]["outcome"] == ["error"]
    assert "cannot set the mark on" in marks[broken.port]["fix_failed"][0]
    assert after[broken.port]["outcome"] == ["failed"]  # its check, unfixed, not held back
    assert "held_back" not in after[broken.port]
    assert marks[lose.port]["outcome"] == ["error"]
    assert "connection lost during the fix" in marks[lose.port]["fix_failed"][0]
    assert not (work / f"mark-{lose.port}").exists()
    assert (work / f"mark-{fine.port}").read_text() == "set\n"


def test_a_failed_wave_still_holds_the_later_waves_back(
    pytester: pytest.Pytester, fleet: list[sshd.Sshd], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second, third = fleet
    result, work = run(
        pytester,
        fleet,
        monkeypatch,
        "--fix-batch",
        "2",
        "--max-fail-percentage",
        "0",
        overlap=2,
        wrong=first,
    )
    assert result.ret == 1
    # The first wave's two hosts were fixed together; the second wave's fix never started.
    assert seen(work, first) == seen(work, second) == sorted([first.port, second.port])
    assert not (work / "events" / f"start-{third.port}").exists()
    assert not (work / f"mark-{third.port}").exists()
    marks = by_port(pytester, "test_a_mark")
    assert marks[first.port]["outcome"] == ["failed"]
    assert marks[second.port]["outcome"] == ["fixed"]
    assert marks[third.port]["outcome"] == ["failed"]
    line = "fix held back: wave 1 exceeded --max-fail-percentage"
    assert marks[third.port]["held_back"] == [line]
