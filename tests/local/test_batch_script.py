"""The batch script on a real shell: answers in order, each read's own streams and status."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from kit.plugin import batch


def _run(lines: list[str], env: dict[str, str] | None = None) -> list[tuple[int, bytes, bytes]]:
    proc = subprocess.Popen(
        ["sh", "-c", batch.script(lines, sudo=False)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        # The reads it left waiting go with it, not on living after the test.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, err
    return batch.parse(out, len(lines))


def test_each_read_has_its_own_status_and_streams_in_order() -> None:
    lines = ["echo one", "false", "cat /hostkit-no-such-file", *[f"echo {i}" for i in range(20)]]
    answers = _run(lines)
    assert answers[0] == (0, b"one\n", b"")
    assert answers[1] == (1, b"", b"")
    assert answers[2][0] == 1 and b"hostkit-no-such-file" in answers[2][2]
    assert [a[1] for a in answers[3:]] == [f"{i}\n".encode() for i in range(20)]


def test_the_reads_run_side_by_side(tmp_path: Path) -> None:
    # The first read waits for the second: one after the other, the batch would never end.
    fifo = tmp_path / "handshake"
    os.mkfifo(fifo)
    answers = _run([f"cat {fifo}", f"echo ready > {fifo}"])
    assert answers[0] == (0, b"ready\n", b"")


def test_the_login_shells_own_output_comes_in_front_of_every_answer(tmp_path: Path) -> None:
    # As each live command would print it: BASH_ENV names a file bash reads when it starts.
    rc = tmp_path / "shrc"
    rc.write_text("echo from-login-file\n")
    answers = _run(["echo a", "echo b"], env={"BASH_ENV": str(rc), "SHELL": "/bin/bash"})
    assert [a[1] for a in answers] == [b"from-login-file\na\n", b"from-login-file\nb\n"]


def test_a_read_without_its_status_makes_the_batch_not_whole() -> None:
    # Its job killed before it wrote a status: the read must not borrow the one before it.
    lines = ["true", "echo x"]
    text = batch.script(lines, sudo=False).replace('echo "$?" >"$hk_b/r2"', ":")
    assert text != batch.script(lines, sudo=False)
    out = subprocess.run(["sh", "-c", text], capture_output=True, timeout=20).stdout
    with pytest.raises(ValueError, match="not whole"):
        batch.parse(out, len(lines))


_STRACE = ["strace", "-f", "-qq", "-e", "trace=clone,clone3,fork,vfork", "-e", "signal=none"]


def _forks(lines: list[str], shell: str) -> int:
    """Processes the batch starts (its own shells included), counted by strace."""
    trace_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"hk-batch-trace.{os.getpid()}"
    try:
        subprocess.run(
            [*_STRACE, "-o", str(trace_file), "sh", "-c", batch.script(lines, sudo=False)],
            env={**os.environ, "SHELL": shell},
            capture_output=True,
            check=True,
            timeout=60,
        )
        calls = trace_file.read_text().splitlines()
    finally:
        trace_file.unlink(missing_ok=True)
    # A clone shows once, or as "<unfinished ...>" and "<... resumed>" lines: count results.
    return sum(1 for c in calls if "unfinished" not in c and c.rstrip().split("= ")[-1].isdigit())


@pytest.mark.parametrize("shell", ["/bin/sh", "/bin/bash"])
def test_a_read_costs_the_host_one_process_beyond_its_own(shell: str) -> None:
    if not shutil.which("strace"):
        pytest.skip("counting a batch's processes needs strace")
    reads = 16
    # The batch's own: mktemp and its command substitution, the login shell, wc and cat.
    fixed = _forks([], shell)
    simple = _forks(["cat /etc/hostname"] * reads, shell)
    piped = _forks(["cat /etc/hostname | tr a b"] * reads, shell)
    # A simple command is its one process, started straight in the background; a pipeline
    # is its commands and the sub-shell that waits for them.
    assert simple - fixed <= reads, (fixed, simple)
    assert piped - fixed <= 3 * reads, (fixed, piped)


def test_a_read_that_is_not_whole_shell_syntax_makes_the_batch_not_whole() -> None:
    # Never one of testinfra's templates; if one were, its reads would all run live.
    lines = ["echo a", "echo ( b", "echo c"]
    out = subprocess.run(
        ["sh", "-c", batch.script(lines, sudo=False)], capture_output=True, timeout=20
    ).stdout
    with pytest.raises(ValueError, match="not whole"):
        batch.parse(out, len(lines))


def test_more_reads_than_run_at_once_keep_their_order_and_statuses() -> None:
    count = batch.PARALLEL * 2 + 3
    answers = _run([f"echo {i}; exit {i % 5}" for i in range(count)])
    assert answers == [(i % 5, f"{i}\n".encode(), b"") for i in range(count)]
