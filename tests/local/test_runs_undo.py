"""`python -m kit.runs` against this machine: a --fix run that changes files under a tmp
dir, then list, show and undo from the record it kept."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kit import undo
from kit.plugin.hosts import HostRegistry
from kit.runner.journal import RunRecord
from tests.plugin.fixruns import state_dirs

ROOT = Path(__file__).resolve().parents[2]

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import files

@remediation(strategy="configure", disruption="low")
def write(target, path, content):
    return files.write_file(target.conn, path, content, dry_run=target.dry_run)

@check("t.file", "the file holds its content", fix=write)
@pytest.mark.parametrize("path,content", FILES, ids=["a", "b", "c"])
def test_file(conn, path, content):
    res = conn.run("cat -- %s", path)
    assert res.ok and res.stdout == content
"""


def snapshot(path: Path) -> tuple[str, int, int, int] | None:
    if not path.exists():
        return None
    st = path.stat()
    return (
        hashlib.sha256(path.read_bytes()).hexdigest(),
        stat.S_IMODE(st.st_mode),
        st.st_uid,
        st.st_gid,
    )


@pytest.fixture
def fixed(pytester, tmp_path, monkeypatch):
    """A --fix run has rewritten a and b and created c; what each was before it."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    files = {n: tmp_path / "etc" / n for n in "abc"}
    files["a"].parent.mkdir()
    files["a"].write_bytes(b"old a \xe9\n")
    files["a"].chmod(0o640)
    files["b"].write_text("old b\n")
    if os.geteuid() == 0:
        os.chown(files["a"], 1234, 4321)
    before = {n: snapshot(p) for n, p in files.items()}
    spec = [(str(files[n]), f"new {n}\n") for n in "abc"]
    pytester.makepyfile(test_checks=f"FILES = {spec!r}\n" + CHECKS)
    res = pytester.runpytest_subprocess("--hosts=local://", "--fix", *state_dirs(pytester))
    assert res.ret == 0 and "3 fixed" in res.stdout.str()
    assert all(snapshot(files[n]) != before[n] for n in "abc")
    (run,) = os.listdir(pytester.path / "runs")
    return files, before, run


def runs(pytester, *args: str) -> subprocess.CompletedProcess[str]:
    dirs = [f"--runs-dir={pytester.path / 'runs'}", f"--lock-dir={pytester.path / 'lock'}"]
    return subprocess.run(
        [sys.executable, "-m", "kit.runs", "--hosts=local://", *dirs, *args],
        capture_output=True,
        text=True,
        cwd=pytester.path,
    )


def test_list_and_show_read_the_run_record(pytester, fixed):
    files, _, run = fixed
    listed = runs(pytester, "list")
    assert listed.returncode == 0, listed.stderr
    (row,) = [ln for ln in listed.stdout.splitlines() if ln.startswith(run)]
    assert row.split()[2:] == ["local://", "3", "finished"]
    shown = runs(pytester, "show", run)
    assert shown.returncode == 0
    for n in "abc":
        assert f"write_file {files[n]} [t.file]" in shown.stdout
    assert "(absent)" in shown.stdout  # c did not exist before the run


def test_undo_puts_files_back_byte_for_byte_and_leaves_a_later_change_alone(pytester, fixed):
    files, before, run = fixed
    files["b"].write_text("changed by hand after the run\n")
    by_hand = snapshot(files["b"])

    plan = runs(pytester, "undo", run, "--dry-run")
    assert plan.returncode == 1  # b would be left alone
    assert f"restore {files['a']} as before the run" in plan.stdout
    assert f"remove {files['c']}, which the run created" in plan.stdout
    assert f"left alone: {files['b']}: changed since the run" in plan.stdout
    assert snapshot(files["a"]) != before["a"] and files["c"].exists()

    done = runs(pytester, "undo", run)
    assert done.returncode == 1, done.stdout + done.stderr
    assert snapshot(files["a"]) == before["a"]
    assert not files["c"].exists()
    assert snapshot(files["b"]) == by_hand
    assert f"{files['b']}: changed since the run" in done.stdout

    forced = runs(pytester, "undo", run, "--force")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert {n: snapshot(p) for n, p in files.items()} == before


def test_an_undo_is_a_run_that_can_be_undone(pytester, fixed):
    files, before, run = fixed
    after_fix = {n: snapshot(p) for n, p in files.items()}
    assert runs(pytester, "undo", run).returncode == 0
    assert {n: snapshot(p) for n, p in files.items()} == before
    undo_run = max(os.listdir(pytester.path / "runs"))
    assert undo_run != run
    assert f"(undo of {run})" in runs(pytester, "list").stdout
    again = runs(pytester, "undo", undo_run)
    assert again.returncode == 0, again.stdout + again.stderr
    assert {n: snapshot(p) for n, p in files.items()} == after_fix


def test_an_unknown_run_is_an_error_listing_the_runs(pytester, fixed):
    _, _, run = fixed
    res = runs(pytester, "undo", "20990101T000000Z-nope")
    assert res.returncode == 4
    assert f"no host has run 20990101T000000Z-nope; the runs recorded are: {run}" in res.stderr


def test_an_unreachable_host_is_named_and_the_others_go_on(pytester, fixed):
    files, before, run = fixed
    dead = "ssh://127.0.0.1:9"
    dirs = [f"--runs-dir={pytester.path / 'runs'}", f"--lock-dir={pytester.path / 'lock'}"]
    res = subprocess.run(
        [sys.executable, "-m", "kit.runs", f"--hosts=local://,{dead}", *dirs, "undo", run],
        capture_output=True,
        text=True,
        cwd=pytester.path,
    )
    assert res.returncode == 1
    assert dead in res.stdout
    assert {n: snapshot(p) for n, p in files.items()} == before


def live_record(*ops: str) -> RunRecord:
    entries: list[dict[str, object]] = [{"event": "start", "run": "r", "time": "t"}]
    for seq, op in enumerate(ops, 1):
        entries += [{"seq": seq, "state": "begin", "op": op}, {"seq": seq, "state": "done"}]
    entries.append({"seq": len(ops) + 1, "state": "begin", "op": "sysctl vm.x=1 (was 0)"})
    return RunRecord("local", "r", False, entries)


def test_live_steps_are_reversed_only_where_an_inverse_is_safe(tmp_path):
    ostype = Path("/proc/sys/kernel/ostype").read_text().strip()
    registry = HostRegistry({})
    (ctx,) = registry.resolve("local://")
    try:
        plan = undo.plan(
            ctx,
            live_record(
                f"sysctl kernel.ostype=Other (was {ostype})",  # changed since: left alone
                "install socat",
                "restart kubelet",
                "disable ufw",
                "modprobe hk_no_such_module",
                "mask swap.target",
            ),
            str(tmp_path),
        )
    finally:
        registry.close()
    shown = [str(a) for a in plan]
    assert shown == [
        "manual: sysctl vm.x=1 (was 0): the run was cut short during it; check it by hand",
        "unmask swap.target",
        "nothing: module hk_no_such_module: not loaded",
        "enable ufw",
        "nothing: restart kubelet: nothing to put back",
        "manual: install socat: no safe inverse; undo it by hand",
        f"left alone: sysctl kernel.ostype is {ostype}, not Other as the run left it",
    ]
