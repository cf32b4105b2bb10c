"""A run's record read back from a host is hostile input: each way it can differ from what
the kit writes is refused with one line naming the run and the entry."""

from __future__ import annotations

import json

import pytest

from kit.runner import runrecord
from kit.runner.runrecord import RecordError

RUN = "20260101T000000Z-0badc0de"
SHA = "a" * 64


def line(**fields: object) -> bytes:
    return json.dumps(fields).encode() + b"\n"


START = line(event="start", run=RUN, time="t")
STEP = dict(seq=1, state="begin", time="t", check="c", op="write_file", path="/etc/a")
GOOD = (
    START
    + line(**STEP, saved="files/1", sha256_before=SHA)
    + line(seq=1, state="done", sha256_after="b" * 64)
    + line(seq=2, state="begin", time="t", op="sysctl k=1 (was 0\t1)", sha256_before=None)
    + line(seq=2, state="failed", error="exit 1\n\x1b[31mred")
    + line(event="end", time="t")
)


def test_a_record_the_kit_wrote_is_read_whole():
    record = runrecord.parse("h", RUN, True, GOOD)
    assert [e.get("state", e.get("event")) for e in record.entries] == [
        "start",
        "begin",
        "done",
        "begin",
        "failed",
        "end",
    ]


def test_only_a_last_entry_cut_short_is_left_out():
    record = runrecord.parse("h", RUN, False, GOOD + b'{"seq": 3, "sta')
    assert len(record.entries) == 6
    with pytest.raises(RecordError, match="entry 2: not a JSON entry"):
        runrecord.parse("h", RUN, False, START + b'{"seq": 3, "sta\n')


def step(**changes: object) -> bytes:
    return START + line(**{**STEP, "saved": "files/1", "sha256_before": SHA, **changes})


HOSTILE = {
    "relative path": (step(path="etc/a"), "entry 2 (step 1): path 'etc/a' is not absolute"),
    "dot-dot": (step(path="/etc/../root/x"), "path '/etc/../root/x' is not absolute"),
    "trailing slash": (step(path="/etc/a/"), "is not absolute and normalised"),
    "double slash": (step(path="//etc/a"), "is not absolute and normalised"),
    "escaping saved": (step(saved="files/../../x"), "saved copy 'files/../../x' is not files/1"),
    "saved of another step": (step(saved="files/2"), "is not files/1"),
    "absolute saved": (step(saved="/etc/shadow"), "is not files/1"),
    "saved without sha": (
        START + line(**STEP, saved="files/1"),
        "a saved file without its sha256_before",
    ),
    "control character": (step(path="/etc/a\x1b[2J"), "path '/etc/a\\x1b[2J'"),
    "newline in op": (step(op="x\ny"), "op 'x\\ny' is not a line of text"),
    "invalid utf-8": (START + b'{"seq": 1, "op": "\xff"}\n', "entry 2: holds bytes"),
    "raw control byte": (START + b'{"seq": 1, "op": "\x1b"}\n', "entry 2: holds bytes"),
    "lone surrogate path": (step(path="/etc/\udc80"), "is not absolute and normalised"),
    "seq as a string": (step(seq="1"), "entry 2: step number '1' is not"),
    "seq as a bool": (step(seq=True), "entry 2: step number True is not"),
    "seq zero": (step(seq=0), "step number 0 is not"),
    "absurd seq": (step(seq=10**12), "step number 1000000000000 is not"),
    "path as a list": (step(path=["/etc/a"]), "entry 2: 'path' is a list, not a value"),
    "nested object": (step(op={"a": 1}), "'op' is a dict, not a value"),
    "sha as a number": (step(sha256_before=12), "sha256_before 12 is not a sha256"),
    "short sha": (step(sha256_before="abc"), "sha256_before 'abc' is not a sha256"),
    "unknown state": (step(state="undone"), "step 1 has state 'undone'"),
    "not an object": (START + b"[1, 2]\n", "entry 2: not a JSON object"),
    "NaN": (START + b'{"seq": NaN}\n', "entry 2: not a JSON entry (NaN is not JSON)"),
    "deep nesting": (START + b"[" * 5000 + b"]" * 5000 + b"\n", "entry 2: not a JSON entry"),
    "duplicated key": (
        START + b'{"seq": 1, "state": "begin", "op": "x", "op": "y"}\n',
        "the key 'op' appears twice",
    ),
    "duplicated begin": (
        step() + step()[len(START) :],
        "entry 3 (step 1): the step is begun twice",
    ),
    "done twice": (
        step() + line(seq=1, state="done") + line(seq=1, state="done"),
        "entry 4 (step 1): the step is done twice",
    ),
    "done and failed": (
        step() + line(seq=1, state="done") + line(seq=1, state="failed"),
        "the step is failed twice",
    ),
    "end of a step never begun": (START + line(seq=4, state="done"), "done of a step never begun"),
    "no start": (line(event="end"), "entry 1: a run's record starts with its start"),
    "a later start of another run": (
        START + line(event="start", run="20250101T000000Z-other", time="t"),
        "entry 2: the start names another run",
    ),
    "start of another run": (
        line(event="start", run="20250101T000000Z-other"),
        "the start names another run",
    ),
    "event with a step number": (START + line(event="x", seq=1), "an event with a step number"),
    "oversized entry": (START + line(event="pad", x="y" * 70_000), "entry 2: longer than 65536"),
    "oversized record": (START + line(event="p", x="y" * 60_000) * 150, "journal is larger"),
    "absurd entry count": (START + b"{}\n" * 100_001, "more than 100000 entries"),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_a_hostile_record_is_refused_naming_the_run_and_the_entry(case):
    data, why = HOSTILE[case]
    with pytest.raises(RecordError) as caught:
        runrecord.parse("h", RUN, True, data)
    message = str(caught.value)
    assert message.startswith(f"run {RUN}") and why in message, message
    assert "\n" not in message and len(message) < 300


@pytest.mark.parametrize("run", ["../x", "a/b", "", ".", "-x", "x" * 101, "r\n"])
def test_a_run_id_that_could_name_another_path_is_refused(run):
    assert not runrecord.valid_run_id(run)
    with pytest.raises(RecordError, match="not a run id"):
        runrecord.parse("h", run, True, START)


def test_a_refused_record_refuses_again_when_used():
    record = runrecord.RunRecord("h", RUN, False, problem=f"run {RUN}: its journal is a link")
    with pytest.raises(RecordError, match="its journal is a link"):
        record.check()
