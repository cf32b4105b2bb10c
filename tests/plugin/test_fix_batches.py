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
import time
from pathlib import Path

from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

DIR = Path(os.environ["BATCH_DIR"])
UNFIXABLE = set(os.environ.get("UNFIXABLE", "").split(","))
RAISING = set(os.environ.get("RAISING", "").split(","))
SLOW = set(os.environ.get("SLOW", "").split(","))
CRASH = set(os.environ.get("CRASH", "").split(","))
CURRENT = {}

def event(what, label):
    # One short append is one write: the workers' lines do not interleave.
    with open(os.environ["BATCH_EVENTS"], "a") as log:
        log.write(f"{what} {label}\\n")

@remediation(strategy="configure", disruption="low")
def write_setting(target):
    label = CURRENT["label"]
    event("fix", label)
    if label in SLOW:
        time.sleep(2)
    if label in RAISING:
        raise RuntimeError("cannot write the setting on " + label)
    content = "wrong\\n" if label in UNFIXABLE else "right\\n"
    return files.write_file(target.conn, str(DIR / label), content)

@check("t.setting", "each host's setting file says right", fix=write_setting)
def test_setting(request, conn):
    label = dict(request.node.user_properties)["host"]
    CURRENT["label"] = label
    event("check", label)
    assert (DIR / label).read_text() == "right\\n", f"{label} is not set right"

def test_plain(request, host):
    label = dict(request.node.user_properties)["host"]
    if label in CRASH:
        os._exit(3)
    assert host.run("true").rc == 0
    event("plain", label)
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
    monkeypatch.setenv("BATCH_EVENTS", str(tmp_path / "events"))
    inventory = "[fleet]\n" + "".join(f"{n} ansible_connection=local\n" for n in names)
    pytester.makefile(".ini", hosts=inventory)
    pytester.makepyfile(test_checks=CHECKS)
    return files


@pytest.fixture(params=[[], ["-n", "2"]], ids=["serial", "xdist"])
def workers(request):
    """Each scenario runs serially and on two xdist workers, with the same results."""
    return request.param


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


def test_an_unfixable_canary_holds_every_later_wave_back(pytester, fleet, workers, monkeypatch):
    monkeypatch.setenv("UNFIXABLE", "h1")
    before = digests(fleet)
    result = run(pytester, *workers, "--fix-batch", "1", "--max-fail-percentage", "0")
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


def test_every_wave_fixes_when_every_fix_works(pytester, fleet, workers):
    result = run(pytester, *workers, "--fix-batch", "2")
    assert result.ret == 0, result.stdout.str()
    assert {p.read_text() for p in fleet.iterdir()} == {"right\n"}
    assert {n: p["outcome"] for n, p in setting_props(pytester).items()} == {
        n: ["fixed"] for n in ("h1", "h2", "h3", "h4", "h5")
    }


def test_a_percentage_sizes_the_waves(pytester, fleet, workers, monkeypatch):
    # 40% of five hosts is two: h1 and h2 are the canary, and one of two failing is 50%.
    monkeypatch.setenv("UNFIXABLE", "h2")
    before = digests(fleet)
    result = run(pytester, *workers, "--fix-batch", "40%", "--max-fail-percentage", "49")
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


def test_a_wave_within_the_limit_lets_the_next_one_fix(pytester, fleet, workers, monkeypatch):
    # The same failure is one host of two, 50%: not over --max-fail-percentage 50.
    monkeypatch.setenv("UNFIXABLE", "h2")
    result = run(pytester, *workers, "--fix-batch", "40%", "--max-fail-percentage", "50")
    assert result.ret == 1
    outcomes = {n: p["outcome"][0] for n, p in setting_props(pytester).items()}
    assert outcomes == {"h1": "fixed", "h2": "failed", "h3": "fixed", "h4": "fixed", "h5": "fixed"}


def test_a_later_wave_that_goes_wrong_stops_only_the_waves_after_it(
    pytester, fleet, workers, monkeypatch
):
    monkeypatch.setenv("UNFIXABLE", "h3")
    result = run(pytester, *workers, "--fix-batch", "2")
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


def test_a_fix_that_raises_fails_its_wave(pytester, fleet, workers, monkeypatch):
    monkeypatch.setenv("RAISING", "h1")
    result = run(pytester, *workers, "--fix-batch", "1")
    assert result.ret == 1
    props = setting_props(pytester)
    assert props["h1"]["outcome"] == ["error"]
    assert props["h2"]["held_back"] == ["fix held back: wave 1 exceeded --max-fail-percentage"]
    assert {p.read_text() for p in fleet.iterdir()} == {"unset\n"}


def events(fleet: Path) -> list[tuple[str, str]]:
    lines = (fleet.parent / "events").read_text().splitlines()
    return [tuple(line.split()) for line in lines]


def test_on_two_workers_no_wave_fixes_before_the_earlier_waves_are_done(
    pytester, fleet, monkeypatch
):
    # h1 and h2 start side by side on the two workers; h1's slow fix would let h2's run
    # first were the waves not waited for.
    monkeypatch.setenv("SLOW", "h1,h3")
    result = run(pytester, "-n", "2", "--fix-batch", "1")
    assert result.ret == 0, result.stdout.str()
    log = events(fleet)
    order = ["h1", "h2", "h3", "h4", "h5"]
    for at, (what, label) in enumerate(log):
        if what != "fix":
            continue
        earlier = set(order[: order.index(label)])
        # Every check, fix and re-check of an earlier wave's host came before this fix.
        assert not [e for e in log[at:] if e[1] in earlier], log
    # And the checks did not wait: both workers checked before the canary was done.
    assert log.index(("check", "h2")) < log.index(("plain", "h1")), log
    assert {p.read_text() for p in fleet.iterdir()} == {"right\n"}


def test_a_worker_that_dies_fails_the_later_waves_fixes_at_once(pytester, fleet, monkeypatch):
    # The canary's worker dies after its fix, so wave 1 never finishes; the other worker
    # must not wait out hostkit_wave_timeout (600 s) for it.
    monkeypatch.setenv("CRASH", "h1")
    result = pytester.runpytest_subprocess(
        "-p",
        "no:randomly",
        "--inventory=hosts.ini",
        "--inventory-backend=builtin",
        "--junitxml=junit.xml",
        "--fix",
        *state_dirs(pytester),
        "-n",
        "2",
        "--fix-batch",
        "1",
        "-o",
        "hostkit_wave_timeout=600",
        timeout=120,
    )
    assert result.ret == 1
    props = setting_props(pytester)
    for name in ("h2", "h3", "h4", "h5"):
        assert props[name]["outcome"] == ["error"], props
        assert (fleet / name).read_text() == "unset\n"
    out = result.stdout.str()
    assert "fix not run: h1 of wave 1 will not finish, xdist worker gw0 stopped early" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fix-batch", "0"], "--fix-batch '0': a wave needs at least 1 host"),
        (["--fix-batch", "110%"], "--fix-batch '110%': give a percentage over 0, up to 100"),
        (["--fix-batch", "abc"], "--fix-batch 'abc': give a number of hosts*"),
        (["--fix-batch", "1", "--max-fail-percentage", "101"], "--max-fail-percentage '101'*"),
        (["--fix-batch", "1", "--max-fail-percentage=-5"], "--max-fail-percentage '-5'*"),
        (
            ["--fix-batch", "1", "-n", "2", "--dist", "loadfile"],
            "--fix-batch keeps each host on one worker: use -n alone or --dist load, "
            "not --dist loadfile",
        ),
        (["--fix-batch", "1", "-o", "hostkit_wave_timeout=0"], "hostkit_wave_timeout '0'*"),
        (
            ["--fix-parallel", "0"],
            "--fix-parallel 0: give how many hosts to fix at once, 1 or more",
        ),
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
