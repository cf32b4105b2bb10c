"""--fix-batch over several hosts: waves in inventory order, a failed canary holding the
rest back, and the bad input that is a usage error.

The hosts are inventory names that all connect to this machine; each host's check reads
its own file, so what a wave fixed (or left alone) shows on disk.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from kit.plugin.outcomes import EXIT_USAGE
from tests.plugin.fixruns import junit, state_dirs

ROOT = Path(__file__).resolve().parents[2]

# The check records which file it read, so its fix writes the same one; a host named in
# UNFIXABLE gets a fix that writes the wrong content and so leaves its check failing.
CHECKS = """
import os
from pathlib import Path

from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

DIR = Path(os.environ["BATCH_DIR"])
UNFIXABLE = set(os.environ.get("UNFIXABLE", "").split(","))
RAISING = set(os.environ.get("RAISING", "").split(","))
CURRENT = {}

@remediation(strategy="configure", disruption="low")
def write_setting(target):
    label = CURRENT["label"]
    if label in RAISING:
        raise RuntimeError("cannot write the setting on " + label)
    content = "wrong\\n" if label in UNFIXABLE else "right\\n"
    return files.write_file(target.conn, str(DIR / label), content)

@check("t.setting", "each host's setting file says right", fix=write_setting)
def test_setting(request, conn):
    label = dict(request.node.user_properties)["host"]
    CURRENT["label"] = label
    assert (DIR / label).read_text() == "right\\n", f"{label} is not set right"

def test_plain(host):
    assert host.run("true").rc == 0
"""


@pytest.fixture(autouse=True)
def this_kit(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


@pytest.fixture
def fleet(pytester, tmp_path, monkeypatch):
    """Five hosts, each with its setting file wrong."""
    names = ["h1", "h2", "h3", "h4", "h5"]
    files = tmp_path / "settings"
    files.mkdir()
    for name in names:
        (files / name).write_text("unset\n")
    monkeypatch.setenv("BATCH_DIR", str(files))
    inventory = "[fleet]\n" + "".join(f"{n} ansible_connection=local\n" for n in names)
    pytester.makefile(".ini", hosts=inventory)
    pytester.makepyfile(test_checks=CHECKS)
    return files


def run(pytester, *args):
    return pytester.runpytest_subprocess(
        "-p",
        "no:randomly",
        "--inventory=hosts.ini",
        "--inventory-backend=builtin",
        "--junitxml=junit.xml",
        "--fix",
        *state_dirs(pytester),
        *args,
    )


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()}


def setting_props(pytester) -> dict[str, dict[str, list[str]]]:
    cases = junit(pytester)
    return {
        name[len("test_setting[") : -1]: props
        for name, props in cases.items()
        if name.startswith("test_setting[")
    }


def test_an_unfixable_canary_holds_every_later_wave_back(pytester, fleet, monkeypatch):
    monkeypatch.setenv("UNFIXABLE", "h1")
    before = digests(fleet)
    result = run(pytester, "--fix-batch", "1", "--max-fail-percentage", "0")
    assert result.ret == 1
    after = digests(fleet)
    assert (fleet / "h1").read_text() == "wrong\n"  # the canary was fixed, and it failed
    assert {n: after[n] for n in ("h2", "h3", "h4", "h5")} == {
        n: before[n] for n in ("h2", "h3", "h4", "h5")
    }
    props = setting_props(pytester)
    line = "fix held back: wave 1 exceeded --max-fail-percentage"
    for name in ("h2", "h3", "h4", "h5"):
        assert props[name]["outcome"] == ["failed"]
        assert props[name]["held_back"] == [line]
    assert "held_back" not in props["h1"]
    # Checks still ran on every host: the plain check passed on all five.
    plain = [n for n, p in junit(pytester).items() if n.startswith("test_plain[")]
    assert len(plain) == 5
    out = result.stdout.str()
    assert "fixes held back" in out
    for name in ("h2", "h3", "h4", "h5"):
        assert f"{name} test_setting[{name}]: {line}" in out


def test_every_wave_fixes_when_every_fix_works(pytester, fleet):
    result = run(pytester, "--fix-batch", "2")
    assert result.ret == 0, result.stdout.str()
    assert {p.read_text() for p in fleet.iterdir()} == {"right\n"}
    assert {n: p["outcome"] for n, p in setting_props(pytester).items()} == {
        n: ["fixed"] for n in ("h1", "h2", "h3", "h4", "h5")
    }


def test_a_percentage_sizes_the_waves(pytester, fleet, monkeypatch):
    # 40% of five hosts is two: h1 and h2 are the canary, and one of two failing is 50%.
    monkeypatch.setenv("UNFIXABLE", "h2")
    before = digests(fleet)
    result = run(pytester, "--fix-batch", "40%", "--max-fail-percentage", "49")
    assert result.ret == 1
    outcomes = {n: p["outcome"][0] for n, p in setting_props(pytester).items()}
    assert outcomes == {
        "h1": "fixed",
        "h2": "failed",
        "h3": "failed",
        "h4": "failed",
        "h5": "failed",
    }
    after = digests(fleet)
    assert all(after[n] == before[n] for n in ("h3", "h4", "h5"))


def test_a_wave_within_the_limit_lets_the_next_one_fix(pytester, fleet, monkeypatch):
    # The same failure is one host of two, 50%: not over --max-fail-percentage 50.
    monkeypatch.setenv("UNFIXABLE", "h2")
    result = run(pytester, "--fix-batch", "40%", "--max-fail-percentage", "50")
    assert result.ret == 1
    outcomes = {n: p["outcome"][0] for n, p in setting_props(pytester).items()}
    assert outcomes == {"h1": "fixed", "h2": "failed", "h3": "fixed", "h4": "fixed", "h5": "fixed"}


def test_a_later_wave_that_goes_wrong_stops_only_the_waves_after_it(pytester, fleet, monkeypatch):
    monkeypatch.setenv("UNFIXABLE", "h3")
    result = run(pytester, "--fix-batch", "2")
    props = setting_props(pytester)
    assert result.ret == 1
    assert [props[n]["outcome"][0] for n in ("h1", "h2", "h3", "h4", "h5")] == [
        "fixed",
        "fixed",
        "failed",
        "fixed",
        "failed",
    ]
    assert props["h5"]["held_back"] == ["fix held back: wave 2 exceeded --max-fail-percentage"]
    assert (fleet / "h5").read_text() == "unset\n"


def test_a_fix_that_raises_fails_its_wave(pytester, fleet, monkeypatch):
    monkeypatch.setenv("RAISING", "h1")
    result = run(pytester, "--fix-batch", "1")
    assert result.ret == 1
    props = setting_props(pytester)
    assert props["h1"]["outcome"] == ["error"]
    assert props["h2"]["held_back"] == ["fix held back: wave 1 exceeded --max-fail-percentage"]
    assert {p.read_text() for p in fleet.iterdir()} == {"unset\n"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fix-batch", "0"], "--fix-batch '0': a wave needs at least 1 host"),
        (["--fix-batch", "110%"], "--fix-batch '110%': give a percentage over 0, up to 100"),
        (["--fix-batch", "abc"], "--fix-batch 'abc': give a number of hosts*"),
        (["--fix-batch", "1", "--max-fail-percentage", "101"], "--max-fail-percentage '101'*"),
        (["--fix-batch", "1", "--max-fail-percentage=-5"], "--max-fail-percentage '-5'*"),
        (["--fix-batch", "1", "-n", "2"], "*--fix-batch runs serially*; drop -n"),
    ],
)
def test_bad_input_is_a_usage_error(pytester, fleet, args, message):
    result = run(pytester, *args)
    assert result.ret == EXIT_USAGE
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert {p.read_text() for p in fleet.iterdir()} == {"unset\n"}


def test_fix_batch_needs_fix(pytester, fleet):
    result = pytester.runpytest_subprocess(
        "--inventory=hosts.ini", "--inventory-backend=builtin", "--fix-batch", "1"
    )
    assert result.ret == EXIT_USAGE
    result.stderr.fnmatch_lines(
        ["ERROR: --fix-batch fixes hosts in waves: use it together with --fix"]
    )
