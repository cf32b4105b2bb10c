"""Running commands over SSH channels: a long-lived shell, or one exec channel per command.

A long-lived `sh` on one channel makes a command cost one round trip: no new
channel, no sshd session setup. Each command is framed by random tokens:

    stdout:  <start> <pid>\\n  <command's stdout>  <end> <rc>\\n
    stderr:  <start>\\n        <command's stderr>  <end>\\n

The command runs under `setsid` in a session of its own, so its pid is also its
process group id: a timeout kills the whole group from a second channel and the
shell itself lives on. Its stdin is /dev/null; the shell's stdin is the script.

Both streams are drained in one loop over the channel's poll descriptor, which
wakes for either, so a command filling stderr never stalls one filling stdout.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import select
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import paramiko

from kit.connection import sudo
from kit.connection.quoting import quote
from kit.connection.secrets import Secret

_CHUNK = 1 << 16
_READY = b"hostkit-ready\n"
_SHELL_CHECK = (
    "command -v setsid >/dev/null 2>&1 && command -v mkfifo >/dev/null 2>&1 "
    "&& echo hostkit-ready && exec /bin/sh; echo none"
)
# Each command writes into pipes of its own, passed on to the channel by two cat relays.
# The next command first kills the relays (checking they are still this shell's
# children, as a pid may be reused), so output that a background job writes after
# its command ended goes nowhere instead of into the next command's output. Without
# fifos (no writable temporary directory) the command writes to the channel itself.
_RELAYS = (
    "for hk_p in $hk_relays; do if {{ read -r _ _ _ hk_pp _ </proc/$hk_p/stat; }} 2>/dev/null "
    '&& [ "$hk_pp" = $$ ]; then kill -KILL $hk_p 2>/dev/null; wait $hk_p 2>/dev/null; fi; done\n'
    "hk_relays=\n"
    '[ -n "$hk_d" ] || {{ hk_d=$(mktemp -d 2>/dev/null) && '
    """trap 'rm -rf -- "$hk_d"' EXIT && trap 'exit 1' HUP TERM PIPE; }}\n"""
    'if [ -n "$hk_d" ] && mkfifo "$hk_d/o" "$hk_d/e" 2>/dev/null; then '
    'cat "$hk_d/o" & hk_relays=$!; cat "$hk_d/e" >&2 & hk_relays="$hk_relays $!"; '
    'exec 3>"$hk_d/o" 4>"$hk_d/e"; rm -f -- "$hk_d/o" "$hk_d/e"; '
    "else exec 3>&1 4>&2; fi\n"
)
_RUN = _RELAYS + (
    "setsid -w /bin/sh -c {inner} sh {cmd} </dev/null >&3 2>&4 3>&- 4>&- &\n"
    'wait $!; printf "%s %s\\n" {end} "$?" >&3; printf "%s\\n" {end} >&4; exec 3>&- 4>&-\n'
)
# No "--": dash's kill takes it for a pid; a negative pid names the group in every sh.
_KILL = "kill -TERM -{pid} 2>/dev/null; sleep 0.2; kill -KILL -{pid} 2>/dev/null; true"
_GRACE = 5.0  # how long a killed command's shell may take to report back
# sshd frees a session's slot a moment after its channel closes: first retry of a
# refused open soon, then back off.
REFUSED_PAUSE = 0.02
REFUSED_MAX_PAUSE = 0.5
_T = TypeVar("_T")
# A command is text, but a host whose locale is not UTF-8 needs other bytes: those
# travel as lone surrogates (as os.fsencode carries them) and go out unchanged.
_BYTES = "surrogateescape"
# Linux's limit on one argument (MAX_ARG_STRLEN); sshd hands an exec request to sh as one.
ARG_LIMIT = 128 * 1024


class Dropped(Exception):
    """The channel or transport closed before the command reported back."""


class Refused(Exception):
    """The server would not open a channel (sshd at MaxSessions); nothing ran."""


class Timeout(Exception):
    """The command outlived its deadline and was killed (or its channel closed)."""


class NoShell(Exception):
    """The host lacks what the long-lived shell needs (setsid)."""


class NotStarted(Exception):
    """The host could not start the command (E2BIG and the like); the text says why."""


class StartTimeout(Exception):
    """The long-lived shell did not report ready in time (slow login start-up files)."""


class _Markers:
    """Random start and end tokens of one command, and the parse of both streams."""

    def __init__(self) -> None:
        tok = secrets.token_hex(16)
        self.start = f"hk{tok}s"
        self.end = f"hk{tok}e"
        self.pid: int | None = None
        self.rc: int | None = None
        self._out = _Stream(
            rb"%s (\d+)\n" % self.start.encode(), rb"%s (\d+)\n" % self.end.encode()
        )
        self._err = _Stream(rb"%s()\n" % self.start.encode(), rb"%s()\n" % self.end.encode())

    def scan(self, out: bytearray, err: bytearray) -> bool:
        """Look for the tokens in what arrived so far; True once both ends are seen.

        Also True when the end arrives with no start: the command never started.
        """
        pid = self._out.scan_start(out)
        if pid:
            self.pid = int(pid)
        self._err.scan_start(err)
        rc = self._out.scan_end(out)
        if rc:
            self.rc = int(rc)
        self._err.scan_end(err)
        if self.pid is None and self._out.begin < 0:
            return self._out.ended_early(out) and self._err.ended_early(err)
        return self._out.stop >= 0 and self._err.stop >= 0

    def bodies(self, out: bytearray, err: bytearray) -> tuple[bytes, bytes]:
        """What the command wrote, between the tokens (or to the end when unfinished)."""
        return self._out.body(out), self._err.body(err)

    def unstarted_reason(self, err: bytearray) -> str:
        """Why a command that never started failed: what the shell said on stderr."""
        text = bytes(err[: self._err.stop]).decode("utf-8", errors="replace").strip()
        return text.splitlines()[-1] if text else "the host's shell could not run it"


class _Stream:
    """Finds a start and an end line in a growing buffer, rescanning only new bytes."""

    _TAIL = 64  # longer than any token line, so one split across reads is still found

    def __init__(self, start: bytes, end: bytes) -> None:
        self._start = re.compile(start)
        self._end = re.compile(end)
        self.begin = -1
        self.stop = -1
        self._seen = 0

    def scan_start(self, buf: bytearray) -> bytes | None:
        if self.begin >= 0:
            return None
        m = self._start.search(buf, max(0, self._seen - self._TAIL))
        if m is None:
            self._seen = len(buf)
            return None
        self.begin = self._seen = m.end()
        return m.group(1) or b"0"

    def scan_end(self, buf: bytearray) -> bytes | None:
        if self.begin < 0 or self.stop >= 0:
            return None
        m = self._end.search(buf, max(self.begin, self._seen - self._TAIL))
        self._seen = len(buf)
        if m is None:
            return None
        self.stop = m.start()
        return m.group(1) or b"0"

    def ended_early(self, buf: bytearray) -> bool:
        """Whether the end line came without a start line (only the shell could print it)."""
        if self.stop < 0:
            m = self._end.search(buf)
            if m is not None:
                self.stop = m.start()
        return self.stop >= 0

    def body(self, buf: bytearray) -> bytes:
        begin = max(self.begin, 0)
        return bytes(buf[begin : self.stop if self.stop >= 0 else len(buf)])


def pump(
    chan: paramiko.Channel,
    out: bytearray,
    err: bytearray,
    done: Callable[[], bool],
    deadline: float | None,
    react: Callable[[], None] | None = None,
) -> bool:
    """Read both streams into out and err until done() or the deadline.

    react, when given, runs after each read (to answer what arrived). Return
    True when done, False at the deadline; raise Dropped when the channel ends
    first.
    """
    fd = chan.fileno()
    while True:
        # Taken before draining: whatever preceded the end is then in the buffers.
        ended = chan.closed or chan.eof_received
        while chan.recv_ready():
            out += chan.recv(_CHUNK)
        while chan.recv_stderr_ready():
            err += chan.recv_stderr(_CHUNK)
        if react is not None:
            react()
        if done():
            return True
        if ended:
            raise Dropped
        wait = 1.0
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0:
                return done()
            wait = min(wait, 1.0)
        select.select([fd], [], [], wait)


Killer = Callable[[int], None]


def open_session(transport: paramiko.Transport, timeout: float) -> paramiko.Channel:
    """Open a session channel; raise Refused when the server says no, Dropped when the link fails.

    Neither ran anything on the host: the command goes out only on an open channel.
    """
    started = time.monotonic()
    try:
        return transport.open_session(timeout=timeout)
    except paramiko.ChannelException as exc:
        raise Refused(f"{exc.text} (code {exc.code})") from None
    except (OSError, EOFError, paramiko.SSHException):
        # paramiko keeps one open failure per transport: of two opens refused at once,
        # one gets the ChannelException and the other a bare SSHException.
        if transport.is_active() and time.monotonic() - started < timeout:
            raise Refused("the server would not open it") from None
        raise Dropped from None


def patiently(attempt: Callable[[], _T], limit: float) -> _T:
    """attempt(), again after a growing pause while it raises Refused, until limit passes."""
    pause = REFUSED_PAUSE
    while True:
        try:
            return attempt()
        except Refused:
            if time.monotonic() + pause > limit:
                raise
        time.sleep(pause)
        pause = min(pause * 2, REFUSED_MAX_PAUSE)


def kill_script(pid: int) -> str:
    """Shell commands that end process group pid: TERM first, so sudo relays it, then KILL."""
    return _KILL.format(pid=int(pid))


def kill_group(transport: paramiko.Transport, pid: int, timeout: float = 10.0) -> None:
    """Kill a process group from a channel of its own (the busy one cannot)."""
    limit = time.monotonic() + timeout
    with contextlib.suppress(Refused, Dropped, paramiko.SSHException, OSError, EOFError):
        chan = patiently(lambda: open_session(transport, timeout), limit)
        try:
            chan.settimeout(timeout)
            chan.exec_command(kill_script(pid))
            chan.shutdown_write()
            chan.recv_exit_status()
        finally:
            chan.close()


class ShellSession:
    """One channel running a long-lived sh; used by one thread at a time."""

    def __init__(
        self,
        transport: paramiko.Transport,
        open_timeout: float,
        startup_timeout: float,
        deadline: float | None = None,
    ) -> None:
        """Open the channel and wait for the shell, past the user's start-up files.

        Those files may be slow: startup_timeout bounds them, apart from the
        network's open_timeout; deadline is the waiting command's own.
        """
        self.transport = transport
        self._chan = open_session(transport, open_timeout)
        try:
            self._chan.exec_command(_SHELL_CHECK)
            out, err = bytearray(), bytearray()
            limit = time.monotonic() + startup_timeout
            # A login shell's start-up files may print first: look for the line, anywhere.
            try:
                ready = pump(
                    self._chan,
                    out,
                    err,
                    lambda: _READY in out,
                    limit if deadline is None else min(limit, deadline),
                )
            except Dropped:
                raise NoShell if out.endswith(b"none\n") else Dropped from None
            if not ready:
                if deadline is not None and deadline < limit:
                    raise Timeout
                raise StartTimeout
        except BaseException:
            self._chan.close()
            raise
        self.alive = True

    def usable(self) -> bool:
        chan = self._chan
        return (
            self.alive and not chan.closed and not chan.eof_received and self.transport.is_active()
        )

    def run(
        self, cmdline: str, timeout: float | None, kill: Killer | None = None
    ) -> tuple[int, bytes, bytes]:
        """Run one command; raise Timeout (after killing it with kill), Dropped or NotStarted."""
        marks = _Markers()
        inner = f'printf "%s %s\\n" {marks.start} "$$"; printf "%s\\n" {marks.start} >&2; '
        inner += 'exec /bin/sh -c "$1"'
        script = _RUN.format(inner=quote(inner), cmd=quote(cmdline), end=marks.end)
        payload = script.encode("utf-8", _BYTES)
        out, err = bytearray(), bytearray()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self._chan.sendall(payload)
            done = pump(self._chan, out, err, lambda: marks.scan(out, err), deadline)
        except (Dropped, OSError, EOFError, paramiko.SSHException):
            self.close()
            raise Dropped from None
        if done and marks.pid is None:
            raise NotStarted(marks.unstarted_reason(err))
        if done:
            assert marks.rc is not None
            return (marks.rc, *marks.bodies(out, err))
        self._kill(marks, out, err, kill)
        raise Timeout

    def _kill(self, marks: _Markers, out: bytearray, err: bytearray, kill: Killer | None) -> None:
        """Kill the timed-out command; keep the shell if it reports back, else close it."""
        if marks.pid is None:
            self.close()  # the command never said who it is: only closing stops it
            return
        (kill or (lambda pid: kill_group(self.transport, pid)))(marks.pid)
        try:
            if pump(self._chan, out, err, lambda: marks.scan(out, err), time.monotonic() + _GRACE):
                return
        except (Dropped, OSError, EOFError, paramiko.SSHException):
            pass
        self.close()

    def close(self) -> None:
        self.alive = False
        with contextlib.suppress(Exception):
            self._chan.close()


def exec_channel(
    transport: paramiko.Transport,
    cmdline: str,
    stdin: bytes | sudo.Input | None,
    timeout: float | None,
    open_timeout: float,
    kill: Killer | None = None,
) -> tuple[int, bytes, bytes]:
    """Run one command on a channel of its own, feeding stdin from a thread.

    sshd starts every exec channel's command in a new session, so the login
    shell's pid is the process group a timeout kills. A sudo.Input stdin is
    written as its sudo.Dialog allows: the password only at sudo's prompt.
    """
    marks = _Markers()
    wrapped = (
        f'printf "%s %s\\n" {marks.start} "$$"; printf "%s\\n" {marks.start} >&2; '
        f"exec /bin/sh -c {quote(cmdline)}"
    )
    payload = wrapped.encode("utf-8", _BYTES)
    if len(payload) > ARG_LIMIT:
        # sshd would drop the whole connection over an exec request this large.
        raise NotStarted(
            f"the command is {len(payload)} bytes, more than the {ARG_LIMIT} "
            "a host accepts as one argument"
        )
    feed = sudo.as_input(stdin)
    chan = open_session(transport, open_timeout)
    writer: list[threading.Thread] = []
    out, err = bytearray(), bytearray()

    def start_data() -> None:
        if feed is not None and feed.data:
            thread = threading.Thread(target=_feed, args=(chan, feed.data), daemon=True)
            thread.start()
            writer.append(thread)
        else:
            end_input()

    def send_secret(secret: Secret) -> None:
        with contextlib.suppress(OSError):  # a closed channel shows up in pump
            secret.write_line(chan.sendall)

    def end_input() -> None:
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
            chan.shutdown_write()

    dialog = sudo.Dialog(feed) if feed is not None else None

    def react() -> None:
        if dialog is not None and dialog.waiting:
            dialog.advance(err, send_secret, start_data, end_input)

    try:
        try:
            chan.exec_command(payload)  # type: ignore[arg-type]
        except (OSError, EOFError, paramiko.SSHException):
            raise Dropped from None
        if dialog is None or not dialog.waiting:
            start_data()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            finished = pump(chan, out, err, lambda: False, deadline, react)
        except Dropped:
            finished = True  # end of both streams: the normal end here
        marks.scan(out, err)
        if not finished:
            if marks.pid is not None:
                (kill or (lambda pid: kill_group(transport, pid)))(marks.pid)
            raise Timeout
        while not chan.exit_status_ready():
            if not transport.is_active():
                raise Dropped
            if deadline is not None and time.monotonic() > deadline:
                raise Timeout
            chan.status_event.wait(0.5)
        rc = chan.recv_exit_status()
        if marks.pid is None and rc != -1 and transport.is_active():
            raise NotStarted(err.decode("utf-8", errors="replace").strip() or f"exit code {rc}")
        if marks.pid is None or rc == -1:
            raise Dropped  # the channel ended without the command's own report
        return (rc, *marks.bodies(out, err))
    finally:
        chan.close()
        for thread in writer:
            thread.join(5)


def _feed(chan: paramiko.Channel, data: bytes) -> None:
    # A command that exits without reading its input closes the channel under us.
    with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
        chan.sendall(data)
        chan.shutdown_write()
