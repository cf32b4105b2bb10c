"""`python -m kit.report merge` on inputs that are not good shard reports: one line naming
the file, exit 4, no traceback, and OUT untouched, whichever input is bad."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kit import report
from kit.reports import json_report
from tests.unit.reportruns import fleet

ROOT = Path(__file__).resolve().parents[2]

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="0" skipped="0" tests="1" time="0.5">
<testcase classname="t" name="test_ok[{host}]" time="0.1"><properties>
<property name="host" value="{host}"/><property name="outcome" value="passed"/>
</properties></testcase></testsuite></testsuites>
"""


def good_json(host: str) -> str:
    run = fleet(1, 2)
    doc = json.loads(json_report.render(run))
    old = doc["hosts"][0]["name"]
    doc["hosts"][0]["name"] = host
    for result in doc["results"]:
        result["host"] = host
    assert old != host
    return json.dumps(doc)


def json_with(change: Callable[[dict], object]) -> str:
    doc = json.loads(good_json("ssh://b"))
    change(doc)
    return json.dumps(doc)


def _drop(key: str) -> Callable[[dict], object]:
    return lambda d: d.pop(key)


# Each bad input, as the text (or the thing) at IN2, and what the one line says about it.
JSON_CASES: dict[str, tuple[object, str]] = {
    "not-json": ("hosts: [a]\n", "not JSON"),
    "truncated": (good_json("ssh://b")[:300], "not JSON"),
    "binary": (bytes(range(256)) * 4, "not UTF-8"),
    "empty": ("", "not JSON"),
    "a-list": ("[]", "not a hostkit JSON report"),
    "no-results": (json_with(_drop("results")), "results"),
    "results-not-a-list": (json_with(lambda d: d.update(results="x")), "results"),
    "result-without-host": (json_with(lambda d: d["results"][0].pop("host")), "host"),
    "result-without-outcome": (json_with(lambda d: d["results"][0].pop("outcome")), "outcome"),
    "host-without-name": (json_with(lambda d: d["hosts"][0].pop("name")), "name"),
    "host-name-a-number": (json_with(lambda d: d["hosts"][0].update(name=7)), "name"),
    "no-started": (json_with(_drop("started")), "started"),
    "duration-text": (json_with(lambda d: d.update(duration="long")), "duration"),
    "check-without-id": (json_with(lambda d: d["checks"][0].pop("id")), "id"),
    "directory": (Path, "directory"),
    "missing": (None, "no such file"),
}

XML_CASES: dict[str, tuple[object, str]] = {
    "not-xml": ("hosts: [a]\n", "not a JUnit report"),
    "truncated": (JUNIT.format(host="ssh://b")[:150], "not a JUnit report"),
    "binary": (bytes(range(256)) * 4, "not a JUnit report"),
    "html": ("<html><body/></html>", "its root is <html>"),
    "tests-not-a-number": (JUNIT.format(host="ssh://b").replace('tests="1"', 'tests="x"'), "tests"),
    "time-not-a-number": (JUNIT.format(host="ssh://b").replace('time="0.5"', 'time="y"'), "time"),
    "directory": (Path, "directory"),
    "missing": (None, "no such file"),
}


def place(path: Path, bad: object) -> None:
    if bad is Path:
        path.mkdir()
    elif isinstance(bad, bytes):
        path.write_bytes(bad)
    elif isinstance(bad, str):
        path.write_text(bad, encoding="utf-8")


def cases() -> list[tuple[str, str, object, str]]:
    found = [(".json", name, bad, why) for name, (bad, why) in JSON_CASES.items()]
    found += [(".xml", name, bad, why) for name, (bad, why) in XML_CASES.items()]
    return found


@pytest.mark.parametrize(
    "suffix,name,bad,why", cases(), ids=[f"{c[0][1:]}-{c[1]}" for c in cases()]
)
def test_a_bad_input_is_one_line_naming_it_and_out_is_untouched(
    tmp_path, capsys, suffix, name, bad, why
):
    good = tmp_path / f"in1{suffix}"
    good.write_text(JUNIT.format(host="ssh://a") if suffix == ".xml" else good_json("ssh://a"))
    broken = tmp_path / f"in2{suffix}"
    place(broken, bad)
    out = tmp_path / f"out{suffix}"
    out.write_text("the previous merge\n")
    code = report.main(["merge", str(out), str(good), str(broken)])
    err = capsys.readouterr().err
    assert code == 4, err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {broken}: "), err
    assert why.lower() in lines[0].lower(), err
    assert out.read_text() == "the previous merge\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out" + suffix, good.name, *([broken.name] if bad is not None else [])]
    )


def test_out_that_is_one_of_the_inputs_is_refused(tmp_path, capsys):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(good_json("ssh://a"))
    b.write_text(good_json("ssh://b"))
    before = a.read_text()
    assert report.main(["merge", str(a), str(a), str(b)]) == 4
    assert capsys.readouterr().err.startswith(f"error: OUT {a} is also an input")
    assert a.read_text() == before


def test_the_command_prints_no_traceback_for_a_bad_shard(tmp_path):
    (tmp_path / "a.json").write_text(good_json("ssh://a"))
    (tmp_path / "b.json").write_text('{"hosts": [], "results": [{}]}')
    done = subprocess.run(
        [sys.executable, "-m", "kit.report", "merge", "out.json", "a.json", "b.json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    assert done.returncode == 4
    assert done.stderr.startswith("error: b.json: ") and len(done.stderr.splitlines()) == 1
    assert not (tmp_path / "out.json").exists()


def test_a_shard_of_a_kit_before_by_hand_merges_into_a_valid_report(tmp_path):
    """Shards written by a kit without the by_hand field merge with newer ones: the merged
    result says null for it (nothing was said by hand), so the document still validates."""
    import jsonschema

    older = json.loads(good_json("ssh://a"))
    for result in older["results"]:
        del result["by_hand"]
    (tmp_path / "a.json").write_text(json.dumps(older))
    (tmp_path / "b.json").write_text(good_json("ssh://b"))
    report.merge(tmp_path / "out.json", [tmp_path / "a.json", tmp_path / "b.json"])
    merged = json.loads((tmp_path / "out.json").read_text())
    jsonschema.Draft202012Validator(json.loads(json_report.SCHEMA.read_text())).validate(merged)
    by_host = {r["host"]: r["by_hand"] for r in merged["results"] if r["outcome"] == "failed"}
    assert by_host["ssh://a"] is None
    assert by_host["ssh://b"] is not None
