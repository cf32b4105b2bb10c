"""The lines that frame one command's output on a channel, found as the bytes arrive.

Every token is random per command (per shell for the done token), so no output
a command could know in advance is taken for one. Each buffer is rescanned only
from where the last scan stopped, less a tail as long as any token line, so a
line split across two reads is still found.
"""

from __future__ import annotations

import re
import secrets

_TAIL = 80  # longer than any token line


def token() -> str:
    return secrets.token_hex(16)


class _Stream:
    """Finds a start and an end line in a growing buffer."""

    def __init__(self, start: bytes, end: bytes | None) -> None:
        self._start = re.compile(start)
        self._end = None if end is None else re.compile(end)
        self.begin = -1  # just past the start line
        self.stop = -1  # where the end line begins
        self._seen = 0

    def scan_start(self, buf: bytearray) -> bytes | None:
        """The start line's capture (b"" without one) the first time it is found."""
        if self.begin >= 0:
            return None
        m = self._start.search(buf, max(0, self._seen - _TAIL))
        if m is None:
            self._seen = len(buf)
            return None
        self.begin = self._seen = m.end()
        return m.group(1)

    def scan_end(self, buf: bytearray) -> bytes | None:
        """The end line's capture (b"" without one) the first time it is found."""
        if self._end is None or self.begin < 0 or self.stop >= 0:
            return None
        m = self._end.search(buf, max(self.begin, self._seen - _TAIL))
        self._seen = len(buf)
        if m is None:
            return None
        self.stop = m.start()
        return m.group(1)

    def body(self, buf: bytearray) -> bytes:
        begin = max(self.begin, 0)
        return bytes(buf[begin : self.stop if self.stop >= 0 else len(buf)])


class ExecFrame:
    """A command on an exec channel of its own: a start line on each stream, the one
    on stdout carrying the command's pid; its output runs to the end of the channel.

        stdout:  <start> <pid>\\n  <command's stdout>
        stderr:  <start>\\n        <command's stderr>
    """

    def __init__(self) -> None:
        self.start = f"hk{token()}s"
        self.pid: int | None = None
        start = re.escape(self.start.encode())
        self._out = _Stream(rb"%s (\d+)\n" % start, None)
        self._err = _Stream(rb"%s()\n" % start, None)

    def scan(self, out: bytearray, err: bytearray) -> None:
        pid = self._out.scan_start(out)
        if pid:
            self.pid = int(pid)
        self._err.scan_start(err)

    def bodies(self, out: bytearray, err: bytearray) -> tuple[bytes, bytes]:
        return self._out.body(out), self._err.body(err)


class ShellFrame:
    """A command through the long-lived shell, which writes its start line before
    starting it, its pid line once started, and its end line with its exit code:

        stdout:  <start>\\n  <command's stdout, the pid line somewhere in it>  <end> <rc>\\n
        stderr:  <start>\\n  <command's stderr>  <end>\\n

    The pid line, `<pid-tag> <pid>\\n`, is written while the command runs, in one
    write (so no output of the command lands inside it), and cut out of its output.
    After the end lines, the done token on both streams says that nothing holds the
    command's output open any more (see session.py). Before them it says the shell
    is gone: it closes its hold on the output only after writing the end lines.
    """

    def __init__(self, done: str) -> None:
        tok = token()
        self.start = f"hk{tok}s"
        self.pid_tag = f"hk{tok}p"
        self.end = f"hk{tok}e"
        self.pid: int | None = None
        self.rc: int | None = None
        start, end = re.escape(self.start.encode()), re.escape(self.end.encode())
        self._out = _Stream(rb"%s()\n" % start, rb"%s (\d+)\n" % end)
        self._err = _Stream(rb"%s()\n" % start, rb"%s()\n" % end)
        self._pid = re.compile(rb"%s (\d+)\n" % re.escape(self.pid_tag.encode()))
        self._pid_span: tuple[int, int] | None = None
        self._pid_seen = 0
        self._done = re.compile(rb"%s\n" % re.escape(done.encode()))
        self._done_seen = [False, False]
        self.lost = False  # a done token came between a start line and its end line
        self._lost_seen = [0, 0]  # how far each stream was searched for that (-1: done)

    def scan(self, out: bytearray, err: bytearray) -> bool:
        """Look for the lines in what arrived so far; True once both end lines are in,
        or once the shell is found gone (lost)."""
        self._out.scan_start(out)
        self._err.scan_start(err)
        self._scan_pid(out)
        rc = self._out.scan_end(out)
        if rc:
            self.rc = int(rc)
        self._err.scan_end(err)
        if not self.lost:
            self.lost = self._unended(0, self._out, out) or self._unended(1, self._err, err)
        return self.lost or (self._out.stop >= 0 and self._err.stop >= 0)

    def _unended(self, i: int, stream: _Stream, buf: bytearray) -> bool:
        """Whether the done token follows the start line with no end line before it."""
        if stream.begin < 0 or self._lost_seen[i] < 0:
            return False
        m = self._done.search(buf, max(stream.begin, self._lost_seen[i] - _TAIL))
        if stream.stop >= 0:
            self._lost_seen[i] = -1  # ended: a token from here on is the settling one
            return m is not None and m.start() < stream.stop
        self._lost_seen[i] = len(buf)
        return m is not None

    def _scan_pid(self, out: bytearray) -> None:
        if self._pid_span is not None or self._out.begin < 0:
            return
        m = self._pid.search(out, max(self._out.begin, self._pid_seen - _TAIL))
        self._pid_seen = len(out)
        if m is not None:
            self._pid_span = m.span()
            self.pid = int(m.group(1))

    def settled(self, out: bytearray, err: bytearray) -> bool:
        """Whether the done token followed the end line on both streams."""
        for i, (stream, buf) in enumerate(((self._out, out), (self._err, err))):
            if not self._done_seen[i] and stream.stop >= 0:
                self._done_seen[i] = self._done.search(buf, stream.stop) is not None
        return all(self._done_seen)

    def bodies(self, out: bytearray, err: bytearray) -> tuple[bytes, bytes]:
        """What the command wrote, between the lines (or to the end when unfinished)."""
        body = self._out.body(out)
        if self._pid_span is not None:
            cut, end = (i - self._out.begin for i in self._pid_span)
            body = body[:cut] + body[end:]
        return body, self._err.body(err)
