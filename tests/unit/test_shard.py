"""Shards of a fleet: every host in exactly one, the same one on every run."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.errors import KitValueError
from kit.plugin import shard

names = st.sets(st.text(min_size=1, max_size=40), min_size=0, max_size=60)


@given(names, st.integers(min_value=1, max_value=12))
def test_shards_partition_the_hosts_exactly(hosts, count):
    parts = [{h for h in hosts if shard.Shard(k, count).keeps(h)} for k in range(count)]
    assert set().union(*parts) == hosts
    assert sum(len(p) for p in parts) == len(hosts)


@given(st.text(min_size=1), st.integers(min_value=1, max_value=50))
def test_a_host_s_shard_is_sha256_of_its_name(host, count):
    # Stable across processes and Python versions: never hash(), which is salted per process.
    expected = int(hashlib.sha256(host.encode()).hexdigest()[:16], 16) % count
    assert shard.shard_of(host, count) == expected


def test_shards_are_reasonably_even():
    counts = [0, 0, 0]
    for n in range(300):
        counts[shard.shard_of(f"node{n}.example", 3)] += 1
    assert min(counts) > 70, counts


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [("0/3", {}, (0, 3)), ("2/3", {}, (2, 3)), ("auto/4", {"JOB_COMPLETION_INDEX": "3"}, (3, 4))],
)
def test_parse(text, env, expected):
    got = shard.parse(text, env)
    assert (got.index, got.count) == expected


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("3/2", {}, "K=3 is outside 0..1"),
        ("2/2", {}, "K=2 is outside 0..1"),
        ("-1/2", {}, "outside 0..1"),
        ("1/0", {}, "N must be at least 1"),
        ("1", {}, "give K/N"),
        ("a/2", {}, "not a whole number"),
        ("auto/2", {}, "JOB_COMPLETION_INDEX is not set"),
        ("auto/2", {"JOB_COMPLETION_INDEX": "2"}, "JOB_COMPLETION_INDEX=2 is outside"),
    ],
)
def test_bad_shards_are_refused(text, env, message):
    with pytest.raises(KitValueError, match=message):
        shard.parse(text, env)
