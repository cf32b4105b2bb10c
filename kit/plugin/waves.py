"""--fix-batch: the waves a run fixes its hosts in, and whether a wave went wrong.

The first wave is the canary. A host's fix failed when a remediation raised or its check
still failed afterwards; when more than --max-fail-percentage of a wave's hosts failed,
every later wave is only checked. Hosts are put in waves in the order the run checks
them, so in a serial run a wave's hosts are all done before the next wave's first fix.

Under xdist the workers agree through files in a directory the controller makes for the
run (`Shared`): a worker writes one record per host once it has run all of that host's
tests, and a host's first fix waits until every host of the earlier waves has a record.
Every worker computes the same verdicts from the same records, so no worker needs a
message from another, and the controller only makes the directory and marks workers
that die. Each worker runs its hosts in wave order (kit.plugin.scheduling), so the
lowest unfinished wave never waits on anything: no deadlock, whatever the worker count.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.errors import KitError, KitValueError


@dataclass(frozen=True)
class Batch:
    """A wave's size: `count` hosts, or `percent` of the run's hosts (at least one)."""

    count: int | None = None
    percent: float | None = None

    def size(self, hosts: int) -> int:
        if self.count is not None:
            return max(1, min(self.count, hosts))
        assert self.percent is not None
        # As Ansible's `serial: P%`: rounded down, but never an empty wave.
        return max(1, math.floor(hosts * self.percent / 100))

    def __str__(self) -> str:
        return f"{self.count}" if self.count is not None else f"{self.percent:g}%"


def parse_batch(text: str) -> Batch:
    """`N` (hosts per wave, N >= 1) or `P%` (0 < P <= 100)."""
    value = text.strip()
    percent = value.endswith("%")
    number = value[:-1].strip() if percent else value
    try:
        amount = float(number) if percent else int(number)
    except ValueError:
        raise KitValueError(
            f"--fix-batch {text!r}: give a number of hosts (e.g. 1) or a percentage (e.g. 25%)"
        ) from None
    if percent:
        if not 0 < amount <= 100:
            raise KitValueError(f"--fix-batch {text!r}: give a percentage over 0, up to 100")
        return Batch(percent=amount)
    if amount < 1:
        raise KitValueError(f"--fix-batch {text!r}: a wave needs at least 1 host")
    return Batch(count=int(amount))


def parse_fail_percentage(text: str) -> float:
    """A share of a wave's hosts, 0 to 100."""
    try:
        value = float(str(text).strip().removesuffix("%"))
    except ValueError:
        raise KitValueError(
            f"--max-fail-percentage {text!r}: give a percentage from 0 to 100"
        ) from None
    if not 0 <= value <= 100:
        raise KitValueError(f"--max-fail-percentage {text!r}: give a percentage from 0 to 100")
    return value


def split(hosts: Sequence[str], batch: Batch) -> list[list[str]]:
    """The hosts in waves of the batch's size, in their order; each host once."""
    hosts = list(dict.fromkeys(hosts))
    if not hosts:
        return []
    size = batch.size(len(hosts))
    return [hosts[i : i + size] for i in range(0, len(hosts), size)]


def exceeded(failed: int, size: int, limit: float) -> bool:
    """Whether `failed` of `size` hosts is a share over `limit` percent."""
    return failed * 100 > limit * size


@dataclass
class Ledger:
    """Which wave each host is in, and which hosts' fixes failed, for one run."""

    waves: list[list[str]]
    limit: float
    failed: set[str] = field(default_factory=set)
    # A serial run fixes a wave's hosts on threads (kit.plugin.fixpool), each recording its own.
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def __post_init__(self) -> None:
        self._wave = {host: n for n, wave in enumerate(self.waves) for host in wave}

    def wave_of(self, host: str) -> int | None:
        """The host's wave, counted from 1."""
        n = self._wave.get(host)
        return None if n is None else n + 1

    def record_failure(self, host: str) -> None:
        with self._lock:
            self.failed.add(host)

    def stopped_by(self, host: str) -> int | None:
        """The first earlier wave whose failures went over the limit, counted from 1; None
        when the host may be fixed. Asked when the host's first fix is due, which in a
        serial run is after every earlier wave's host has finished."""
        n = self._wave.get(host)
        if n is None:
            return None
        for k, wave in enumerate(self.waves[:n]):
            if exceeded(sum(h in self.failed for h in wave), len(wave), self.limit):
                return k + 1
        return None


def held_back_line(wave: int) -> str:
    return f"fix held back: wave {wave} exceeded --max-fail-percentage"


# -- under xdist ------------------------------------------------------------------------

DIR_KEY = "hostkit_waves_dir"  # the workerinput entry naming the run's shared directory
DEFAULT_TIMEOUT = 900.0
FAILED, DONE = "failed\n", "done\n"


class WaveUnfinished(KitError):
    """A fix cannot know whether it may run: an earlier wave will not, or did not in time,
    finish."""


def parse_timeout(text: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        value = math.nan
    if not (value > 0 and math.isfinite(value)):
        raise KitValueError(f"hostkit_wave_timeout {text!r}: give a number of seconds over 0")
    return value


def _write(path: Path, text: str) -> None:
    """All or nothing: a reader sees no file or the whole record."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def mark_stopped(directory: Path, worker: str) -> None:
    """Say that a worker will run nothing more, so nobody waits for its hosts."""
    _write(directory / f"stopped-{worker}", f"{worker}\n")


class Shared(Ledger):
    """A worker's ledger: the hosts' records in `directory`, shared by every worker.

    `tests` maps each host-bearing test id of the run to its host: a host is finished on
    the worker that runs its last one (all of a host's tests run on one worker). A host's
    first fix waits, polling, for every host of the earlier waves; it gives up at once
    when a worker has stopped early, or after `timeout` seconds without a host finishing.
    """

    POLL = (0.05, 0.5)  # first and longest pause between looks, seconds
    # A plugin too: pytest keeps its plugins in sets.
    __hash__ = object.__hash__
    __eq__ = object.__eq__

    def __init__(
        self,
        waves: list[list[str]],
        limit: float,
        directory: Path,
        tests: dict[str, str],
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(waves, limit)
        self.directory = directory
        self.timeout = timeout
        self._tests = tests
        self._left: dict[str, int] = {}
        for host in tests.values():
            self._left[host] = self._left.get(host, 0) + 1
        self._order = {host: i for i, host in enumerate(h for wave in waves for h in wave)}
        self._known: set[str] = set()  # hosts whose record has been read
        self._gave_up: str | None = None

    def _record(self, host: str) -> Path:
        # By position: labels (ssh://user@host:22) are no file names.
        return self.directory / f"host-{self._order[host]}"

    def finished(self, host: str) -> None:
        if host in self._order:
            _write(self._record(host), FAILED if host in self.failed else DONE)

    def stopped_by(self, host: str) -> int | None:
        n = self._wave.get(host)
        if n:
            self._wait_for(n)
        return super().stopped_by(host)

    def _wait_for(self, n: int) -> None:
        """Until every host of the first `n` waves has a record, read into `failed`."""
        missing = [h for wave in self.waves[:n] for h in wave if h not in self._known]
        pause, last = self.POLL[0], time.monotonic()
        while missing:
            if self._gave_up is not None:
                raise WaveUnfinished(self._gave_up)
            names = set(os.listdir(self.directory))
            for host in missing:
                if self._record(host).name in names:
                    self._read(host)
            left = [h for h in missing if h not in self._known]
            if len(left) < len(missing):
                missing, last, pause = left, time.monotonic(), self.POLL[0]
                continue
            self._gave_up = self._why_not(missing[0], names, last)
            if self._gave_up is None:
                time.sleep(pause)
                pause = min(pause * 2, self.POLL[1])

    def _read(self, host: str) -> None:
        if self._record(host).read_text() == FAILED:
            self.failed.add(host)
        self._known.add(host)

    def _why_not(self, host: str, names: Iterable[str], since: float) -> str | None:
        wave = self._wave[host] + 1
        stopped = sorted(n.removeprefix("stopped-") for n in names if n.startswith("stopped-"))
        if stopped:
            return (
                f"fix not run: {host} of wave {wave} will not finish, "
                f"xdist worker {', '.join(stopped)} stopped early"
            )
        if time.monotonic() - since > self.timeout:
            return (
                f"fix not run: waited {self.timeout:g} s for {host} of wave {wave} to finish "
                "(ini hostkit_wave_timeout)"
            )
        return None

    # pytest hooks on the worker

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        host = self._tests.get(nodeid)
        if host is None:
            return
        self._left[host] -= 1
        if not self._left[host]:
            self.finished(host)

    def pytest_sessionfinish(self, session: Any) -> None:
        if session.shouldfail or session.shouldstop:
            workerinput = getattr(session.config, "workerinput", {})
            mark_stopped(self.directory, workerinput.get("workerid", str(os.getpid())))


class Controller:
    """The xdist controller's part: the directory its workers share for one run, and a
    mark there for each worker that dies, so that the others stop waiting for its hosts."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="hostkit-waves-"))

    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[DIR_KEY] = str(self.directory)

    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        if error is not None:
            mark_stopped(self.directory, node.gateway.id)

    def pytest_unconfigure(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)
