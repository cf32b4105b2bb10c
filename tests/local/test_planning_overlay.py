"""A host's planned writes read back to its later plans, on this machine's files in a temp dir;
and a real run's writes recorded the same way."""

from __future__ import annotations

import pytest

from kit.connection import connect
from kit.connection.planning import FileChanges, PlanningConnection, recording
from kit.runner import files


@pytest.fixture
def host():
    with connect("local://") as conn:
        yield conn


def test_a_planned_write_is_what_the_next_plan_reads(host, tmp_path):
    path = tmp_path / "conf"
    path.write_text("a\n")
    planner = PlanningConnection(host, FileChanges())
    first = files.write_file(planner, str(path), "a\nb\n", dry_run=True)
    second = files.write_file(planner, str(path), "a\nb\nc\n", dry_run=True)
    assert path.read_text() == "a\n"
    assert "+b" in first.diff and "+b" not in second.diff and "+c" in second.diff
    assert files.stat_and_read(planner, str(path))[0] == b"a\nb\nc\n"
    assert files.read_file(planner, str(path)) == b"a\nb\nc\n"
    (change,) = planner.files.files.values()
    assert (change.original, change.content, change.created) == (b"a\n", b"a\nb\nc\n", False)
    # Another planner, another run: the host's file as it is.
    assert files.stat_and_read(PlanningConnection(host), str(path))[0] == b"a\n"


def test_a_planned_file_exists_to_later_plans_and_is_created_once(host, tmp_path):
    path = tmp_path / "new"
    planner = PlanningConnection(host, FileChanges())
    assert not files.exists(planner, str(path))
    made = files.write_file(planner, str(path), "x\n", mode="0644", dry_run=True)
    assert files.exists(planner, str(path)) and not path.exists()
    again = files.write_file(planner, str(path), "x\ny\n", mode="0644", dry_run=True)
    assert made.summary.endswith(": created, mode 644")
    assert again.summary.endswith(": content updated")  # the planned mode holds already
    assert planner.files.planned(str(path)).created


def test_a_write_through_a_link_is_planned_on_its_target(host, tmp_path):
    real, link = tmp_path / "real", tmp_path / "link"
    real.write_text("old\n")
    link.symlink_to(real)
    planner = PlanningConnection(host, FileChanges())
    files.write_file(planner, str(link), "new\n", dry_run=True)
    assert list(planner.files.files) == [str(real)]
    assert files.stat_and_read(planner, str(link))[0] == b"new\n"
    assert files.stat_and_read(planner, str(real))[0] == b"new\n"


def test_undo_forgets_a_failed_fixs_plans_and_since_names_what_a_fix_changed(host, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    planned = FileChanges()
    planner = PlanningConnection(host, planned)
    files.write_file(planner, str(one), "1\n", dry_run=True)
    mark = planned.mark()
    files.write_file(planner, str(two), "2\n", dry_run=True)
    assert [f.path for f in planned.since(mark)] == [str(two)]
    planned.undo(mark)
    assert planned.planned(str(two)) is None and planned.planned(str(one)) is not None
    assert not files.exists(planner, str(two))


def test_a_real_write_is_recorded_only_while_recording_its_connection(host, tmp_path):
    path = tmp_path / "conf"
    path.write_text("a\n")
    done = FileChanges()
    files.write_file(host, str(path), "b\n")
    assert not done.files
    with connect("local://") as other, recording(other, done):
        files.write_file(host, str(path), "c\n")
    assert not done.files
    with recording(host, done):
        files.write_file(host, str(path), "d\n")
        files.write_file(host, str(path), "e\n")
    assert path.read_text() == "e\n"
    (change,) = done.files.values()
    assert (change.original, change.content) == (b"c\n", b"e\n")
