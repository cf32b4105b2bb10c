"""What the tests of `hostkit serve` share: a small suite of checks on this machine (one
that passes, one that reads a file the test flips), a server started as an operator starts
it, on a loopback port of its own choosing, and its endpoints scraped over HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]

SUITE = """
from pathlib import Path

from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

FLIP = Path(__file__).parent / "flip"


@remediation(strategy="configure", disruption="low")
def write_flip(target):
    return files.write_file(target.conn, str(FLIP), "on\\n", dry_run=target.dry_run)


@check("t.always", "always holds", severity="warning")
def test_always(conn):
    assert conn.run("true").ok


@check("t.flip", "the flip file holds on", fix=write_flip)
def test_flip(conn):
    res = conn.run("cat -- %s", str(FLIP))
    assert res.ok and res.stdout == "on\\n", "flip is not on"
"""


def make_suite(root: Path) -> Path:
    """The suite's directory, with a profile selecting its two checks only."""
    suite = root / "suite"
    (suite / "profiles").mkdir(parents=True)
    (suite / "test_suite.py").write_text(SUITE)
    (suite / "profiles" / "tiny.yaml").write_text("checks: [t.*]\n")
    return suite


def run_args(root: Path, suite: Path) -> list[str]:
    """A run of the suite on this machine, its fix records and lock under root."""
    return [
        str(suite),
        "--hosts=local://",
        f"--profile={suite / 'profiles' / 'tiny.yaml'}",
        "-o",
        f"hostkit_runs_dir={root / 'runs'}",
        "-o",
        f"hostkit_lock_dir={root / 'lock'}",
    ]


def env() -> dict[str, str]:
    # The server and its runs import the kit under test, whatever the working directory.
    found = {**os.environ, "PYTHONPATH": str(ROOT)}
    # As a server runs where it is installed: with the modules' compiled (and pytest's
    # assertion-rewritten) bytecode cached, which a run would otherwise compile anew, the
    # larger part of its cost here.
    found.pop("PYTHONDONTWRITEBYTECODE", None)
    return found


def report(root: Path, suite: Path) -> dict:
    """The suite's JSON report from `hostkit check`, run apart from any server."""
    out = root / "check.json"
    subprocess.run(
        [sys.executable, "-m", "kit.cli", "check", *run_args(root, suite), f"--report-json={out}"],
        cwd=root,
        env=env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    return json.loads(out.read_text())


def wait_for(what: str, found: Callable[[], object], timeout: float = 60) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout}s: {what}")


@dataclass
class Server:
    proc: subprocess.Popen
    log: Path
    url: str = ""

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def metrics(self) -> dict[str, list]:
        """Each metric family's samples, as the client library's parser reads them."""
        status, body = self.get("/metrics")
        assert status == 200, body
        return {f.name: f.samples for f in text_string_to_metric_families(body)}

    def value(self, name: str, **labels: str) -> float | None:
        for family in self.metrics().values():
            for sample in family:
                if sample.name == name and all(
                    sample.labels.get(k) == v for k, v in labels.items()
                ):
                    return sample.value
        return None

    def runs(self) -> int:
        _, body = self.get("/metrics")
        done = 0.0
        for family in text_string_to_metric_families(body):
            for sample in family.samples:
                if sample.name == "hostkit_runs_total":
                    done += sample.value
        return int(done)

    def wait_runs(self, count: int, timeout: float = 60) -> None:
        wait_for(f"{count} runs", lambda: self.runs() >= count, timeout)

    def wait_runs_going(self, count: int, stall: float = 60) -> None:
        """Wait for count runs however long they take on a loaded machine, as long as each
        next run completes within stall seconds: a stuck server still fails the wait."""
        done = self.runs()
        while done < count:
            wait_for(f"run {done + 1} of {count}", lambda seen=done: self.runs() > seen, stall)
            done = self.runs()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


@contextmanager
def serve(root: Path, *args: str) -> Iterator[Server]:
    """A server on a free loopback port; stopped (SIGTERM) when the test ends."""
    log = root / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kit.cli", "serve", "--listen", "127.0.0.1:0", *args],
            cwd=root,
            env=env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(proc, log)
    try:

        def listening() -> re.Match | None:
            if proc.poll() is not None:
                raise AssertionError(f"serve exited {proc.returncode}:\n{server.text()}")
            return re.search(r"listening on (http://[\w.:\[\]]+)/metrics", server.text())

        line = wait_for("the server says where it listens", listening)
        assert isinstance(line, re.Match)
        server.url = line.group(1)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def rss_kib(pid: int) -> int:
    """A process's resident memory, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The fields after the command's name, which is in parentheses and may hold spaces.
        if int(stat.rpartition(")")[2].split()[1]) == pid:
            found.append(int(entry.name))
    return found
