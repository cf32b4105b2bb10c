"""kit/reports/output.py on this machine's filesystem: what is at a report path stays what
it was, a replaced report keeps its mode, and nothing is created through a link."""

from __future__ import annotations

import os
import stat
import threading

import pytest

from kit.errors import KitValueError
from kit.reports import output


def test_a_replaced_report_keeps_its_mode_and_leaves_nothing_beside_it(tmp_path):
    report = tmp_path / "run.json"
    report.write_text("old")
    report.chmod(0o600)  # the operator keeps this report private
    output.write(output.check("--report-json", str(report)), "new\n")
    assert report.read_text() == "new\n"
    assert stat.S_IMODE(report.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["run.json"]


def test_a_link_planted_at_a_new_report_path_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    report = tmp_path / "run.json"
    where = output.check("--report-json", str(report))
    report.symlink_to(victim)  # planted while the run goes on
    output.write(where, "report\n")
    assert victim.read_text() == "precious\n"
    assert not report.is_symlink() and report.read_text() == "report\n"


def test_a_link_to_a_device_writes_the_device_and_stays_a_link(tmp_path):
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    output.write(output.check("--report-json", str(link)), "gone\n")
    assert link.is_symlink() and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_link_to_a_pipe_of_this_process_writes_into_the_pipe(tmp_path):
    # /dev/stdout when standard output is a pipe: /proc/self/fd/N names the pipe.
    read_end, write_end = os.pipe()
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(os.read(read_end, 1 << 16)))
    reader.start()
    try:
        link = tmp_path / "out"
        link.symlink_to(f"/proc/self/fd/{write_end}")
        output.write(output.check("--report-json", str(link)), "piped\n")
        reader.join(10)
    finally:
        os.close(write_end)
        os.close(read_end)
    assert got == [b"piped\n"] and link.is_symlink()


def test_a_link_that_went_missing_during_the_run_is_not_followed_to_create_a_file(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("")
    link = tmp_path / "run.json"
    link.symlink_to(target)
    where = output.check("--report-json", str(link))
    target.unlink()
    with pytest.raises(FileNotFoundError):
        output.write(where, "report\n")
    assert not target.exists() and link.is_symlink()


@pytest.mark.parametrize(
    "make,problem",
    [
        (lambda p: p.symlink_to(p.parent / "missing"), "is a link to a missing file*"),
        (lambda p: p.mkdir(), "is a directory; give a file name"),
        (lambda p: p.symlink_to(p.parent), "is a directory; give a file name"),
    ],
    ids=["dangling-link", "directory", "link-to-directory"],
)
def test_a_path_no_report_can_go_to_is_refused_by_name(tmp_path, make, problem):
    path = tmp_path / "r.json"
    make(path)
    with pytest.raises(KitValueError) as err:
        output.check("--report-json", str(path))
    assert err.match(f"^--report-json {path}: ") and err.match(problem.replace("*", ".*"))


def test_a_socket_is_refused(tmp_path):
    import socket

    path = tmp_path / "s"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        link = tmp_path / "r.json"
        link.symlink_to(path)
        with pytest.raises(KitValueError, match="is a socket"):
            output.check("--report-json", str(link))
