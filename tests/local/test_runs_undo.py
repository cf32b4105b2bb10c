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
    # 10, as a run's: the only failure is a host that could not be reached.
    assert res.returncode == 10, res.stdout + res.stderr
    assert dead in res.stdout
    assert {n: snapshot(p) for n, p in files.items()} == before


def test_a_hosts_own_failure_beside_an_unreachable_host_exits_1(pytester, fixed):
    files, _, run = fixed
    files["b"].write_text("changed by hand after the run\n")
    dead = "ssh://127.0.0.1:9"
    dirs = [f"--runs-dir={pytester.path / 'runs'}", f"--lock-dir={pytester.path / 'lock'}"]
    res = subprocess.run(
        [sys.executable, "-m", "kit.runs", f"--hosts=local://,{dead}", *dirs, "undo", run],
        capture_output=True,
        text=True,
        cwd=pytester.path,
    )
    assert res.returncode == 1, res.stdout + res.stderr
    assert dead in res.stdout and "changed since the run" in res.stdout


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


def tree(path: Path) -> dict[str, tuple[str, int, int, int] | str | None]:
    """Every file under path as snapshot() sees it; a symlink as its target."""
    found: dict[str, tuple[str, int, int, int] | str | None] = {}
    for here, dirs, names in os.walk(path):
        for name in dirs + names:
            p = Path(here) / name
            if p.is_symlink():
                found[str(p)] = "-> " + os.readlink(p)
            elif p.is_file():
                found[str(p)] = snapshot(p)
    return found


def journal_of(pytester, run: str) -> Path:
    return pytester.path / "runs" / run / "journal"


def begun(pytester, run: str) -> list[dict[str, object]]:
    import json

    lines = journal_of(pytester, run).read_text().splitlines()
    return [e for e in map(json.loads, lines) if e.get("state") == "begin"]


def test_a_missing_copy_of_a_file_that_existed_is_an_error_and_the_file_stays(pytester, fixed):
    files, _, run = fixed
    seq = next(e["seq"] for e in begun(pytester, run) if e["path"] == str(files["a"]))
    (pytester.path / "runs" / run / "files" / str(seq)).unlink()
    after_fix = {n: snapshot(p) for n, p in files.items()}
    res = runs(pytester, "undo", run)
    assert res.returncode == 1, res.stdout + res.stderr
    assert files["a"].exists(), "undo removed a file that existed before the run"
    assert {n: snapshot(p) for n, p in files.items()} == after_fix
    (line,) = [ln for ln in res.stdout.splitlines() if str(files["a"]) in ln]
    assert run in line and "saved copy" in line and "missing" in line


def test_a_saved_copy_that_is_not_what_the_record_says_is_refused(pytester, fixed):
    files, _, run = fixed
    seq = next(e["seq"] for e in begun(pytester, run) if e["path"] == str(files["a"]))
    (pytester.path / "runs" / run / "files" / str(seq)).write_text("planted\n")
    after_fix = {n: snapshot(p) for n, p in files.items()}
    res = runs(pytester, "undo", run)
    assert res.returncode == 1, res.stdout + res.stderr
    assert {n: snapshot(p) for n, p in files.items()} == after_fix
    assert "planted" not in files["a"].read_text()
    assert f"{run}" in res.stdout and "sha256" in res.stdout


def test_an_undo_started_while_its_run_is_fixing_is_refused_and_changes_nothing(pytester, fixed):
    """The run still holds the host's lock: the undo names it and undoes nothing, even
    once the run has ended (it must not wait and then act on a record it read before)."""
    files, _, run = fixed
    after_fix = {n: snapshot(p) for n, p in files.items()}
    lock = pytester.path / "lock"
    lock.mkdir(exist_ok=True)
    with subprocess.Popen(["sleep", "30"]) as fixing:
        try:
            with open(f"/proc/{fixing.pid}/stat") as fh:
                start = fh.read().rpartition(") ")[2].split()[19]
            (lock / "fix.owner").write_text(f"{run} {fixing.pid} {start}\n")
            dirs = [f"--runs-dir={pytester.path / 'runs'}", f"--lock-dir={lock}"]
            command = [sys.executable, "-m", "kit.runs", "--hosts=local://", *dirs]
            undoing = subprocess.Popen(
                [*command, "--lock-timeout=20", "undo", run],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                cwd=pytester.path,
            )
            try:
                out, _ = undoing.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                fixing.kill()  # the run ends; an undo still waiting now acts
                fixing.wait()
                out, _ = undoing.communicate(timeout=60)
        finally:
            fixing.kill()
    assert undoing.returncode == 1, out
    assert f"run {run} is still in progress" in out
    assert {n: snapshot(p) for n, p in files.items()} == after_fix


def test_an_undo_keeps_an_interrupted_run_for_the_next_fix_to_report(pytester, fixed):
    from kit.connection import connect
    from kit.runner import journal
    from kit.runner.journal import Journal

    _, _, run = fixed
    with connect("local://") as conn:
        cut = Journal(conn, "20000101T000000Z-cut", str(pytester.path / "runs"), keep=10**6)
        cut.open()
        with cut.fix("t.cut"), pytest.raises(KeyboardInterrupt), journal.live_step(conn, "x"):
            raise KeyboardInterrupt  # the controller killed: no end recorded
        assert runs(pytester, "undo", run).returncode == 0
        nxt = Journal(conn, "20990101T000000Z-next", str(pytester.path / "runs"), keep=10**6)
        assert [e.run for e in nxt.open()] == ["20000101T000000Z-cut"]


FAILING = """
import pytest
from kit.catalog.check import check
from kit.catalog.remediation import remediation
from kit.runner import journal

@remediation(strategy="configure", disruption="low")
def fails(target):
    with journal.live_step(target.conn, "start hk-no-such-unit"):
        target.conn.run("false").check()

@check("t.fails", "a fix that fails cleanly", fix=fails)
def test_fails(conn):
    assert False
"""


def test_a_step_that_failed_cleanly_is_not_reported_as_cut_short(pytester, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pytester.makepyfile(test_checks=FAILING)
    res = pytester.runpytest_subprocess("--hosts=local://", "--fix", *state_dirs(pytester))
    assert "host unchanged" in res.stdout.str()
    (run,) = os.listdir(pytester.path / "runs")
    shown = runs(pytester, "show", run)
    assert "in flight" not in shown.stdout and "never finished" not in shown.stdout
    assert "1 failed" in shown.stdout, shown.stdout
    undone = runs(pytester, "undo", run)
    assert "cut short" not in undone.stdout
    assert undone.returncode == 0, undone.stdout + undone.stderr


CTL = """#!/bin/sh
verb=$1; svc=$2
case $verb in
  status) test -e {state}/$svc.active ;;
  start) touch {state}/$svc.active; echo "start $svc" >> {state}/log ;;
  restart) touch {state}/$svc.active; echo "restart $svc with $(cat {conf})" >> {state}/log ;;
esac
"""


def test_a_unit_restarted_after_its_file_changed_is_restarted_after_the_file_is_back(
    tmp_path, monkeypatch
):
    """containerd's config.toml and its restart, on a stand-in init system: this machine's
    pid 1 is not one the kit drives (tests/local/test_runner_services.py)."""
    import dataclasses

    from kit.facts import InitSystem
    from kit.runner import files, services
    from kit.runner.journal import Journal
    from tests.local.test_runner_services import StandIn

    conf, state, ctl = tmp_path / "config.toml", tmp_path / "state", tmp_path / "ctl"
    conf.write_text("old\n")
    state.mkdir()
    ctl.write_text(CTL.format(state=state, conf=conf))
    ctl.chmod(0o755)
    (state / "web.active").touch()
    init = InitSystem(
        type="standin",  # type: ignore[arg-type]
        start_cmd=f"{ctl} start {{}}",
        restart_cmd=f"{ctl} restart {{}}",
        is_active_cmd=f"{ctl} status {{}}",
    )
    monkeypatch.setitem(services._MANAGERS, "standin", StandIn)
    registry = HostRegistry({})
    (ctx,) = registry.resolve("local://")
    runs_dir, run = str(tmp_path / "runs"), "20260101T000000Z-restart"
    try:
        ctx._facts = dataclasses.replace(ctx.facts, init_system=init)
        record = Journal(ctx.conn, run, runs_dir)
        record.open()
        with record.fix("t.containerd"):
            files.write_file(ctx.conn, str(conf), "new\n")
            services.restart_service(ctx.conn, ctx.facts, "web")
        record.close()
        result = undo.undo(ctx, run, root=runs_dir, lock_dir=str(tmp_path / "lock"))
    finally:
        registry.close()
    assert result.ok, result.left
    assert conf.read_text() == "old\n"
    assert (state / "log").read_text().splitlines() == [
        "restart web with new",
        "restart web with old",
    ]
    assert result.done == [f"restored {conf}", "web restarted"]
