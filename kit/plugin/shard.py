"""Which hosts one shard of a run keeps: a stable 1/N of them, by a hash of the host's name.

Shards are numbered from 0, as a Kubernetes Indexed Job numbers its pods
(JOB_COMPLETION_INDEX): `--shard 0/3`, `1/3` and `2/3` together cover every host
once. `--shard auto/3` takes the index from JOB_COMPLETION_INDEX. The hash is
sha256 of the host's name, so every job, on every machine and Python, agrees.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from kit.errors import KitValueError

INDEX_ENV = "JOB_COMPLETION_INDEX"


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    def keeps(self, host: str) -> bool:
        return shard_of(host, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_of(host: str, count: int) -> int:
    """The shard, of count, that the host named `host` belongs to."""
    digest = hashlib.sha256(host.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


def parse(text: str, env: Mapping[str, str]) -> Shard:
    """`K/N` (0 <= K < N) or `auto/N`, the index then read from JOB_COMPLETION_INDEX."""
    index_text, sep, count_text = text.partition("/")
    if not sep:
        raise KitValueError(f"--shard {text!r}: give K/N, e.g. 0/3 (shards count from 0)")
    try:
        count = int(count_text)
    except ValueError:
        raise KitValueError(f"--shard {text!r}: N must be a whole number") from None
    if count < 1:
        raise KitValueError(f"--shard {text!r}: N must be at least 1")
    if index_text == "auto":
        index_text = env.get(INDEX_ENV, "")
        if not index_text:
            raise KitValueError(f"--shard {text!r}: {INDEX_ENV} is not set")
        where = f"{INDEX_ENV}={index_text}"
    else:
        where = f"K={index_text}"
    try:
        index = int(index_text)
    except ValueError:
        raise KitValueError(f"--shard {text!r}: {where} is not a whole number") from None
    if not 0 <= index < count:
        raise KitValueError(
            f"--shard {text!r}: {where} is outside 0..{count - 1} (shards count from 0)"
        )
    return Shard(index, count)
