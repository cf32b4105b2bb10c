"""The framing of a command's output through the long-lived shell, fed as the bytes arrive."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kit.connection.framing import ExecFrame, ShellFrame

DONE = "hkdonetokend"


def _streams(frame: ShellFrame, body: bytes, at: int, rc: int = 3) -> tuple[bytes, bytes]:
    """What the shell sends: the pid line written at byte `at` of the command's stdout."""
    pid_line = f"{frame.pid_tag} 4242\n".encode()
    out = (
        f"{frame.start}\n".encode()
        + body[:at]
        + pid_line
        + body[at:]
        + f"{frame.end} {rc}\n{DONE}\n".encode()
    )
    err = f"{frame.start}\nerr\n{frame.end}\n{DONE}\n".encode()
    return out, err


def _feed(frame: ShellFrame, out: bytes, err: bytes, cuts: list[int]) -> tuple[bytearray, ...]:
    """Feed both streams in pieces cut at cuts; return the buffers once all is in."""
    got_out, got_err = bytearray(), bytearray()
    last = 0
    for cut in [*sorted(cuts), max(len(out), len(err))]:
        got_out += out[last:cut]
        got_err += err[last:cut]
        last = max(last, cut)
        frame.scan(got_out, got_err)
    return got_out, got_err


@given(
    body=st.binary(max_size=300),
    where=st.floats(0, 1),
    cuts=st.lists(st.integers(0, 400), max_size=8),
)
def test_the_pid_line_is_cut_out_wherever_it_lands(body: bytes, where: float, cuts) -> None:
    frame = ShellFrame(DONE)
    out, err = _streams(frame, body, int(len(body) * where))
    got_out, got_err = _feed(frame, out, err, cuts)
    assert frame.scan(got_out, got_err)
    assert (frame.pid, frame.rc) == (4242, 3)
    assert frame.bodies(got_out, got_err) == (body, b"err\n")
    assert frame.settled(got_out, got_err)


def test_output_before_the_start_line_is_not_the_commands() -> None:
    frame = ShellFrame(DONE)
    out, err = _streams(frame, b"mine\n", 2)
    got_out, got_err = _feed(frame, b"LATE\n" + out, b"LATE-ERR\n" + err, [3, 30])
    assert frame.bodies(got_out, got_err) == (b"mine\n", b"err\n")


def test_unsettled_until_the_done_token_follows_the_end_on_both_streams() -> None:
    frame = ShellFrame(DONE)
    out, err = _streams(frame, b"x\n", 0)
    # A done token before the end line is an earlier command's.
    early_out = f"{DONE}\n".encode() + out[: -len(DONE) - 1]
    got_out, got_err = bytearray(early_out), bytearray(err)
    assert frame.scan(got_out, got_err)
    assert not frame.settled(got_out, got_err)
    got_out += f"{DONE}\n".encode()
    assert frame.settled(got_out, got_err)

    frame = ShellFrame(DONE)
    out, err = _streams(frame, b"x\n", 0)
    got_out, got_err = bytearray(out), bytearray(err[: -len(DONE) - 1])
    assert frame.scan(got_out, got_err)
    assert not frame.settled(got_out, got_err)


def test_an_unfinished_command_has_its_output_so_far_without_the_pid_line() -> None:
    frame = ShellFrame(DONE)
    out = f"{frame.start}\nab{frame.pid_tag} 7\ncd".encode()
    got_out, got_err = bytearray(out), bytearray(f"{frame.start}\ne".encode())
    assert not frame.scan(got_out, got_err)
    assert frame.pid == 7
    assert frame.bodies(got_out, got_err) == (b"abcd", b"e")


def test_an_exec_channels_pid_is_on_its_start_line() -> None:
    frame = ExecFrame()
    out = bytearray(f"noise\n{frame.start} 99\nbody".encode())
    err = bytearray(f"{frame.start}\nerr".encode())
    frame.scan(out, err)
    assert frame.pid == 99
    assert frame.bodies(out, err) == (b"body", b"err")


def test_a_done_token_before_the_end_line_means_the_shell_is_gone() -> None:
    frame = ShellFrame(DONE)
    out = f"{frame.start}\n{frame.pid_tag} 7\npartial".encode()
    got_out, got_err = bytearray(out), bytearray(f"{frame.start}\n".encode())
    assert not frame.scan(got_out, got_err)
    got_out += f"{DONE}\n".encode()  # the relay's: nothing holds the output, the shell neither
    assert frame.scan(got_out, got_err)
    assert frame.lost


def test_the_settling_done_token_is_not_a_lost_shell() -> None:
    frame = ShellFrame(DONE)
    out, err = _streams(frame, b"x\n", 1)
    got_out, got_err = _feed(frame, out, err, [len(out) - 3])
    assert frame.scan(got_out, got_err)
    assert not frame.lost
