"""--fix-batch arithmetic: parsing, the waves hosts fall into, and when a wave stops the rest."""

from __future__ import annotations

import math
import tempfile
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kit.errors import KitValueError
from kit.plugin.waves import (
    Batch,
    Ledger,
    Shared,
    WaveUnfinished,
    mark_stopped,
    parse_batch,
    parse_fail_percentage,
    parse_timeout,
    split,
)

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


# -- under xdist: records in a shared directory -------------------------------------------


def shared(directory, hosts, batch, limit=0.0, timeout=30.0, tests=None):
    """A worker's ledger; `tests` maps its test ids to hosts (one test per host by default)."""
    tests = tests if tests is not None else {f"t[{h}]": h for h in hosts}
    return Shared(split(hosts, batch), limit, directory, tests, timeout)


def finish(ledger, host):
    for nodeid, label in ledger._tests.items():
        if label == host:
            ledger.pytest_runtest_logfinish(nodeid)


@given(
    st.lists(st.sampled_from("abcdefgh"), unique=True, min_size=1),
    st.sets(st.sampled_from("abcdefgh")),
    st.integers(1, 3),
    st.sampled_from([0.0, 25.0, 50.0]),
)
def test_workers_reach_the_serial_verdicts_from_the_records(hosts, failed, size, limit):
    serial = Ledger(split(hosts, Batch(count=size)), limit)
    with tempfile.TemporaryDirectory() as tmp:
        # Two workers, each with every other host, as a run on two workers could have them.
        workers = [shared(Path(tmp), hosts, Batch(count=size), limit) for _ in range(2)]
        for n, host in enumerate(hosts):
            worker = workers[n % 2]
            if host in failed:
                worker.record_failure(host)
                serial.record_failure(host)
            finish(worker, host)
        for n, host in enumerate(hosts):
            assert workers[(n + 1) % 2].stopped_by(host) == serial.stopped_by(host)


def test_a_fix_waits_for_the_earlier_waves_host_to_finish(tmp_path):
    hosts = ["a", "b"]
    tests = {"t1[a]": "a", "t2[a]": "a", "t1[b]": "b"}
    first, second = (shared(tmp_path, hosts, Batch(count=1), tests=tests) for _ in range(2))
    verdict: list[int | None] = []
    waiting = threading.Thread(target=lambda: verdict.append(second.stopped_by("b")))
    waiting.start()
    first.record_failure("a")
    first.pytest_runtest_logfinish("t1[a]")
    waiting.join(0.5)
    assert waiting.is_alive()  # a's second test, its re-check say, has not run yet
    first.pytest_runtest_logfinish("t2[a]")
    waiting.join(5)
    assert not waiting.is_alive()
    assert verdict == [1]


def test_waiting_does_not_spin(tmp_path):
    ledger = shared(tmp_path, ["a", "b"], Batch(count=1), timeout=1.5)
    used: list[float] = []

    def wait() -> None:
        start = time.thread_time()
        with pytest.raises(WaveUnfinished):
            ledger.stopped_by("b")
        used.append(time.thread_time() - start)

    waiting = threading.Thread(target=wait)
    waiting.start()
    waiting.join(10)
    assert used and used[0] < 0.1


def test_no_host_finishing_in_time_fails_clearly_and_at_once_after(tmp_path):
    ledger = shared(tmp_path, ["a", "b", "c"], Batch(count=1), timeout=0.3)
    start = time.monotonic()
    with pytest.raises(WaveUnfinished) as err:
        ledger.stopped_by("b")
    assert 0.3 <= time.monotonic() - start < 5
    assert str(err.value) == (
        "fix not run: waited 0.3 s for a of wave 1 to finish (ini hostkit_wave_timeout)"
    )
    start = time.monotonic()
    with pytest.raises(WaveUnfinished):
        ledger.stopped_by("c")
    assert time.monotonic() - start < 0.2


def test_a_stopped_worker_ends_the_wait_at_once(tmp_path):
    ledger = shared(tmp_path, ["a", "b"], Batch(count=1), timeout=60)
    threading.Timer(0.3, mark_stopped, (tmp_path, "gw0")).start()
    start = time.monotonic()
    with pytest.raises(WaveUnfinished, match="a of wave 1 will not finish, xdist worker gw0"):
        ledger.stopped_by("b")
    assert time.monotonic() - start < 5


def test_the_first_wave_and_hosts_out_of_the_run_never_wait(tmp_path):
    ledger = shared(tmp_path, ["a", "b"], Batch(count=1), timeout=60)
    assert (ledger.stopped_by("a"), ledger.stopped_by("z")) == (None, None)


@pytest.mark.parametrize("text", ["0", "-1", "x", "nan", "inf", ""])
def test_bad_wave_timeouts(text):
    with pytest.raises(KitValueError, match=r"hostkit_wave_timeout .*seconds over 0$"):
        parse_timeout(text)
