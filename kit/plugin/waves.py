"""--fix-batch: the waves a run fixes its hosts in, and whether a wave went wrong.

The first wave is the canary. A host's fix failed when a remediation raised or its check
still failed afterwards; when more than --max-fail-percentage of a wave's hosts failed,
every later wave is only checked. Hosts are put in waves in the order the run checks
them, so in a serial run a wave's hosts are all done before the next wave's first fix.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from kit.errors import KitValueError


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

    def __post_init__(self) -> None:
        self._wave = {host: n for n, wave in enumerate(self.waves) for host in wave}

    def wave_of(self, host: str) -> int | None:
        """The host's wave, counted from 1."""
        n = self._wave.get(host)
        return None if n is None else n + 1

    def record_failure(self, host: str) -> None:
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
