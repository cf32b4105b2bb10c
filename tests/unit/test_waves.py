"""--fix-batch arithmetic: parsing, the waves hosts fall into, and when a wave stops the rest."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.errors import KitValueError
from kit.plugin.waves import Batch, Ledger, parse_batch, parse_fail_percentage, split

HOSTS = st.lists(st.text(min_size=1, max_size=8), unique=True, max_size=40)
BATCHES = st.one_of(
    st.builds(Batch, count=st.integers(1, 50)),
    st.builds(Batch, percent=st.floats(0.01, 100, allow_nan=False)),
)


@pytest.mark.parametrize(
    ("text", "batch"),
    [
        ("1", Batch(count=1)),
        ("12", Batch(count=12)),
        ("25%", Batch(percent=25.0)),
        ("100%", Batch(percent=100.0)),
        ("2.5%", Batch(percent=2.5)),
    ],
)
def test_parse_batch(text, batch):
    assert parse_batch(text) == batch


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("0", "at least 1 host"),
        ("-3", "at least 1 host"),
        ("110%", "over 0, up to 100"),
        ("0%", "over 0, up to 100"),
        ("nan%", "over 0, up to 100"),
        ("abc", "a number of hosts"),
        ("1.5", "a number of hosts"),
        ("", "a number of hosts"),
    ],
)
def test_bad_batches_are_one_line_errors(text, why):
    with pytest.raises(KitValueError, match=why) as err:
        parse_batch(text)
    assert str(err.value).startswith(f"--fix-batch {text!r}")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["101", "-1", "x", "nan"])
def test_bad_fail_percentages(text):
    with pytest.raises(KitValueError, match=r"--max-fail-percentage .*0 to 100"):
        parse_fail_percentage(text)


def test_fail_percentage_bounds_are_allowed():
    assert (parse_fail_percentage("0"), parse_fail_percentage("100")) == (0.0, 100.0)


@given(HOSTS, BATCHES)
def test_waves_cover_every_host_once_in_order(hosts, batch):
    waves = split(hosts, batch)
    assert [h for wave in waves for h in wave] == hosts
    assert all(waves)


@given(HOSTS.filter(bool), BATCHES)
def test_wave_sizes(hosts, batch):
    waves = split(hosts, batch)
    if batch.count is not None:
        size = min(batch.count, len(hosts))
    else:
        size = max(1, math.floor(len(hosts) * batch.percent / 100))
    assert all(len(w) == size for w in waves[:-1])
    assert 1 <= len(waves[-1]) <= size
    assert len(waves) == math.ceil(len(hosts) / size)


def test_percent_sizing_rounds_down_but_never_empties_a_wave():
    hosts = [f"h{i}" for i in range(10)]
    assert [len(w) for w in split(hosts, parse_batch("25%"))] == [2, 2, 2, 2, 2]
    assert [len(w) for w in split(hosts, parse_batch("5%"))] == [1] * 10
    assert [len(w) for w in split(hosts, parse_batch("100%"))] == [10]


def test_a_host_named_twice_is_in_one_wave():
    assert split(["a", "b", "a", "c"], Batch(count=2)) == [["a", "b"], ["c"]]


def test_a_failed_canary_stops_later_waves_only():
    ledger = Ledger(split(["a", "b", "c"], Batch(count=1)), limit=0)
    assert [ledger.stopped_by(h) for h in "abc"] == [None, None, None]
    ledger.record_failure("a")
    assert [ledger.stopped_by(h) for h in "abc"] == [None, 1, 1]
    assert ledger.stopped_by("not in the run") is None


def test_the_limit_is_a_share_of_the_wave():
    ledger = Ledger(split(list("abcdefgh"), Batch(count=4)), limit=25)
    ledger.record_failure("a")
    assert ledger.stopped_by("e") is None  # 1 of 4 is 25%, not over it
    ledger.record_failure("b")
    assert ledger.stopped_by("e") == 1
    assert ledger.wave_of("e") == 2


def test_a_later_wave_that_goes_wrong_names_itself():
    ledger = Ledger(split(list("abc"), Batch(count=1)), limit=0)
    ledger.record_failure("b")
    assert (ledger.stopped_by("b"), ledger.stopped_by("c")) == (None, 2)
