"""A run's record on a host, written and read over the real sshd as root: the run directory
is never made through a link someone planted, and a record that is not what the kit wrote
(a possibly compromised host's) is refused by undo, named, and changes nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from kit.runner import files
from kit.runner.journal import Journal, JournalError
from tests.ssh import sshd

RUN = "20250301T000000Z-0badc0de"
START = json.dumps({"event": "start", "run": "x", "time": "t"}) + "\n"


def tree(path: Path) -> dict[str, object]:
    """Every entry under path: a file's bytes and mode, a link's target, a directory."""
    found: dict[str, object] = {}
    for here, dirs, names in os.walk(path):
        for name in dirs + names:
            p = Path(here) / name
            if p.is_symlink():
                found[str(p)] = ("link", os.readlink(p))
            elif p.is_dir():
                found[str(p)] = ("dir", p.stat().st_mode)
            else:
                found[str(p)] = ("file", p.read_bytes(), p.stat().st_mode)
    return found


@pytest.fixture
def root(connect):
    return connect(sshd.NOPASSWD_USER)


def test_a_planted_link_in_the_runs_directory_is_never_written_through(root, tmp_path):
    runs, victim = tmp_path / "runs", tmp_path / "victim"
    runs.mkdir(mode=0o700)
    victim.mkdir()
    (victim / "journal").write_text(START)  # looks like an unfinished run
    (runs / "20250101T000000Z-linked").symlink_to(victim)
    real = runs / "20250101T000001Z-real"
    real.mkdir()
    (real / "journal").write_text(START)
    (real / "noticed").symlink_to(tmp_path / "made-through-a-link")
    before = tree(victim)

    record = Journal(root, "20250102T000000Z-new", str(runs))
    record.open()
    record.close()

    assert tree(victim) == before, "the run wrote into a directory a link pointed at"
    assert not (tmp_path / "made-through-a-link").exists()
    made = runs / "20250102T000000Z-new"
    assert made.is_dir() and not made.is_symlink()
    assert (made.stat().st_uid, made.stat().st_mode & 0o077) == (0, 0)


def test_a_runs_directory_that_is_a_link_is_refused(root, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "runs").symlink_to(elsewhere)
    with pytest.raises(JournalError, match="runs"):
        Journal(root, "20250102T000000Z-new", str(tmp_path / "runs")).open()
    assert list(elsewhere.iterdir()) == []


# -- a hostile record ---------------------------------------------------------------


def rewrite(entry_of: Callable[[dict[str, object]], dict[str, object] | str | bytes]):
    """A case that replaces the first file step's begin entry with entry_of(entry)."""

    def change(run_dir: Path, work: Path) -> None:
        lines = (run_dir / "journal").read_bytes().splitlines(keepends=True)
        for i, line in enumerate(lines):
            entry = json.loads(line)
            if entry.get("state") == "begin" and entry.get("saved"):
                new = entry_of(dict(entry))
                if isinstance(new, dict):
                    new = json.dumps(new)
                lines[i] = (new.encode() if isinstance(new, str) else new) + b"\n"
                break
        (run_dir / "journal").write_bytes(b"".join(lines))

    return change


def link_saved_copy(run_dir: Path, work: Path) -> None:
    copy = run_dir / "files" / "1"
    twin = work / "twin"
    shutil.copy(copy, twin)  # the same bytes: only the link gives it away
    copy.unlink()
    copy.symlink_to(twin)


def link_run_dir(run_dir: Path, work: Path) -> None:
    moved = work / "moved-run"
    run_dir.rename(moved)
    run_dir.symlink_to(moved)


def link_files_dir(run_dir: Path, work: Path) -> None:
    moved = work / "moved-files"
    (run_dir / "files").rename(moved)
    (run_dir / "files").symlink_to(moved)


def append(data: bytes) -> Callable[[Path, Path], None]:
    def change(run_dir: Path, work: Path) -> None:
        with open(run_dir / "journal", "ab") as fh:
            fh.write(data)

    return change


def duplicate_first_step(run_dir: Path, work: Path) -> None:
    lines = (run_dir / "journal").read_bytes().splitlines(keepends=True)
    lines.insert(2, lines[1])
    (run_dir / "journal").write_bytes(b"".join(lines))


def plant_copy(run_dir: Path, work: Path) -> None:
    (run_dir / "files" / "1").write_text("planted\n")


def step(**fields: object) -> bytes:
    return (
        json.dumps({"seq": 9, "state": "begin", "time": "t", "op": "x", **fields}) + "\n"
    ).encode()


CASES: dict[str, Callable[[Path, Path], None]] = {
    "relative path": rewrite(lambda e: {**e, "path": "etc/a.conf"}),
    "dot-dot path": rewrite(lambda e: {**e, "path": f"{e['path']}/../../a.conf"}),
    "saved escapes files/": rewrite(lambda e: {**e, "saved": "files/../../victim"}),
    "saved copy is a link": link_saved_copy,
    "run directory is a link": link_run_dir,
    "files directory is a link": link_files_dir,
    "oversized record": append(b'{"event": "pad", "x": "' + b"y" * (9 << 20) + b'"}\n'),
    "oversized entry": append(b'{"event": "pad", "x": "' + b"y" * (100 << 10) + b'"}\n'),
    "invalid utf-8": rewrite(
        lambda e: json.dumps({**e, "op": "OPX"}).encode().replace(b"OPX", b"\xff\xfe")
    ),
    "control characters": rewrite(lambda e: {**e, "path": e["path"] + "\x1b[2J"}),
    "seq as a string": rewrite(lambda e: {**e, "seq": "1"}),
    "path as a list": rewrite(lambda e: {**e, "path": [e["path"]]}),
    "sha256 as a number": rewrite(lambda e: {**e, "sha256_before": 12}),
    "absurd seq": append(step(seq=10**15, path="/etc/x", saved=f"files/{10**15}")),
    "absurd entry count": append(b'{"event": "n"}\n' * 200_001),
    "duplicated step": duplicate_first_step,
    "duplicated key": rewrite(lambda e: json.dumps(e)[:-1] + ', "path": "rel/a.conf"}'),
    "hash mismatch": plant_copy,
}


# What each refusal names, besides the run.
WHY = {
    "relative path": "entry 2 (step 1): path 'etc/a.conf' is not absolute",
    "dot-dot path": "entry 2 (step 1): path ",
    "saved escapes files/": "entry 2 (step 1): saved copy 'files/../../victim' is not files/1",
    "saved copy is a link": "the saved copy files/1 is a symbolic link",
    "run directory is a link": "its directory is a symbolic link",
    "files directory is a link": "or its files/ is not a plain directory",
    "oversized record": "its journal is larger than",
    "oversized entry": "entry 7: longer than",
    "invalid utf-8": "entry 2: holds bytes the kit never writes",
    "control characters": "entry 2 (step 1): path ",
    "seq as a string": "entry 2: step number '1' is not",
    "path as a list": "entry 2: 'path' is a list",
    "sha256 as a number": "entry 2 (step 1): sha256_before 12 is not a sha256",
    "absurd seq": "entry 7: step number 1000000000000000 is not",
    "absurd entry count": "more than 100000 entries",
    "duplicated step": "entry 3 (step 1): the step is begun twice",
    "duplicated key": "entry 2: not a JSON entry (the key 'path' appears twice)",
    "hash mismatch": "the saved copy files/1 does not have the recorded sha256",
}
assert WHY.keys() == CASES.keys()


@pytest.fixture
def recorded(root, tmp_path):
    """A run over ssh that rewrote one file and created another: its directory and files."""
    work = tmp_path / "work"
    work.mkdir()
    runs = work / "runs"
    kept, made = work / "a.conf", work / "b.conf"
    kept.write_text("before\n")
    record = Journal(root, RUN, str(runs))
    record.open()
    with record.fix("t.file"):
        files.write_file(root, str(kept), "after\n", sudo=True)
        files.write_file(root, str(made), "made\n", sudo=True)
    record.close()
    return work, runs / RUN


def undo(server, tmp_path: Path, runs: Path, *args: str) -> subprocess.CompletedProcess[str]:
    host = [f"--hosts={server.spec(sshd.NOPASSWD_USER)}", f"--known-hosts={server.known_hosts}"]
    key = f"--ssh-identity-file={server.client_key}"
    dirs = [f"--runs-dir={runs}", f"--lock-dir={tmp_path / 'lock'}"]
    return subprocess.run(
        [sys.executable, "-m", "kit.runs", *host, key, *dirs, "undo", RUN, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_record_is_refused_named_and_changes_nothing(
    case, recorded, server, tmp_path, this_kit
):
    work, run_dir = recorded
    CASES[case](run_dir, work)
    before = tree(work)
    res = undo(server, tmp_path, run_dir.parent, "--force")
    assert tree(work) == before, f"{case}: the undo changed the host\n{res.stdout}"
    assert res.returncode == 1, res.stdout + res.stderr
    (line,) = [ln for ln in res.stdout.splitlines() if RUN in ln]
    assert "refused, nothing changed" in line and WHY[case] in line, line
    assert len(line) < 400


def test_the_same_record_untouched_is_undone(recorded, server, tmp_path, this_kit):
    """The cases above differ from a good record only by what each changes."""
    work, run_dir = recorded
    res = undo(server, tmp_path, run_dir.parent)
    assert res.returncode == 0, res.stdout + res.stderr
    assert (work / "a.conf").read_text() == "before\n" and not (work / "b.conf").exists()
