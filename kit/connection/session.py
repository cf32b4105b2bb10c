"""Running commands over SSH channels: a long-lived shell, or one exec channel per command.

A long-lived `sh` on one channel makes a command cost one round trip: no new
channel, no sshd session setup. The shell frames each command by random tokens:

    stdout:  <start>\n  <command's stdout, <pid-tag> <pid>\n somewhere in it>  <end> <rc>\n
    stderr:  <start>\n  <command's stderr>  <end>\n

The command runs under `setsid` in a session of its own, so its pid (which the
shell writes as the pid line, cut out of the output here) is also its process
group id: a timeout kills the whole group from a second channel and the shell
itself lives on. Its stdin is /dev/null; the shell's stdin is the script.

Both streams are drained in one loop over the channel's poll descriptor, which
wakes for either, so a command filling stderr never stalls one filling stdout.
"""

from __future__ import annotations

import contextlib
import select
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import paramiko

from kit.connection import sudo
from kit.connection.framing import ExecFrame, ShellFrame, token
from kit.connection.quoting import quote
from kit.connection.secrets import Secret

_CHUNK = 1 << 16
_READY = b"hostkit-ready\n"
_SHELL_CHECK = (
    "command -v setsid >/dev/null 2>&1 && command -v mkfifo >/dev/null 2>&1 "
    "&& echo hostkit-ready && exec /bin/sh; echo none"
)
# A command writes into two fifos, passed on to the channel by two cat relays that
# live across commands: starting processes is what a command costs on the host.
# Each relay reads its fifo and then the file t, over and over (`cat o1 t o1 t ...`):
# cat reaches t only at the end of the fifo's input, when nothing holds the fifo's
# write end any more, and t holds the session's done token. So a command is done with
# its output when, after its end line, the token arrives on both streams. When it does
# not (a background job keeps the command's output open, in its process group, in a
# session of its own, as root...), the next command starts new fifos and relays and
# kills the old relays first: what the job writes later goes nowhere instead of into a
# later command's output. A relay ends after 2**doublings commands, and is replaced.
# Between commands a relay waits to open its fifo, which nothing but the next command
# ends: the shell's EXIT trap kills the relays, and where setpriv can, the kernel kills
# them when the shell dies without running it (a SIGKILL).
# Without fifos (no writable temporary directory) the command writes to the channel
# itself, and the shell writes the done tokens.
_SETUP = r"""hk_t={token} hk_dbl={doublings} hk_r= hk_g=0 hk_n=0 hk_nf= hk_pd='{pdeathsig}'
hk_d=$(mktemp -d 2>/dev/null) && printf '%s\n' "$hk_t" >"$hk_d/t" || hk_nf=1
[ -n "$hk_pd" ] && $hk_pd true </dev/null >/dev/null 2>&1 || hk_pd=
hk_kr() {{
  for hk_p in $hk_r; do
    if {{ read -r _ _ _ hk_pp _ </proc/$hk_p/stat; }} 2>/dev/null && [ "$hk_pp" = $$ ]; then
      kill -KILL $hk_p 2>/dev/null; wait $hk_p 2>/dev/null
    fi
  done
  hk_r=
}}
hk_up() {{
  [ -n "$hk_r" ] || return 1
  for hk_p in $hk_r; do
    {{ read -r _ _ hk_s hk_pp _ </proc/$hk_p/stat; }} 2>/dev/null && [ "$hk_pp" = $$ ] \
      && [ "$hk_s" != Z ] || return 1
  done
}}
hk_rot() {{
  hk_kr
  hk_g=$((hk_g + 1))
  mkfifo "$hk_d/o$hk_g" "$hk_d/e$hk_g" 2>/dev/null || {{ hk_nf=1; return 1; }}
  hk_o="o$hk_g t" hk_e="e$hk_g t" hk_i=0
  while [ $hk_i -lt $hk_dbl ]; do hk_o="$hk_o $hk_o" hk_e="$hk_e $hk_e" hk_i=$((hk_i + 1)); done
  (cd "$hk_d" && exec $hk_pd cat $hk_o 2>/dev/null) & hk_r=$!
  (cd "$hk_d" && exec $hk_pd cat $hk_e >&2 2>/dev/null) & hk_r="$hk_r $!"
  hk_n=$((1 << hk_dbl))
}}
hk_run() {{
  if [ -z "$hk_nf" ] && {{ [ "$1" = 1 ] && [ "$hk_n" -gt 0 ] && hk_up || hk_rot; }} \
    && {{ command exec 3>"$hk_d/o$hk_g" 4>"$hk_d/e$hk_g"; }} 2>/dev/null; then
    hk_n=$((hk_n - 1))
  else
    hk_kr; exec 3>&1 4>&2
  fi
  printf '%s\n' "$2" >&3; printf '%s\n' "$2" >&4
  setsid -w /bin/sh -c "$5" </dev/null >&3 2>&4 3>&- 4>&- &
  printf '%s %s\n' "$3" $! >&3
  wait $!
  printf '%s %s\n' "$4" $? >&3; printf '%s\n' "$4" >&4; exec 3>&- 4>&-
  [ -n "$hk_r" ] || {{ printf '%s\n' "$hk_t"; printf '%s\n' "$hk_t" >&2; }}
}}
trap 'hk_kr; [ -z "$hk_d" ] || rm -rf -- "$hk_d"' EXIT
trap 'exit 1' HUP TERM PIPE
"""
# A relay lasts 2**_DOUBLINGS commands: its arguments, o t o t ..., are doubled so often.
_DOUBLINGS = 9
# What the relays run under so that they die with the shell; used where it works.
_PDEATHSIG = "setpriv --pdeathsig KILL"
# How long to wait, after a command's end line, for the relays' done tokens. They
# follow at once unless something still holds the output, when the relays are replaced;
# on busy cores a relay or a command's last child may take a while to be scheduled, and
# each token that comes too late costs new relays (three processes).
_SETTLE = 0.2
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


def check_length(arg: bytes) -> None:
    """Raise NotStarted for what is too long to be one argument of a program on the host."""
    if len(arg) >= ARG_LIMIT:
        raise NotStarted(
            f"the command is {len(arg)} bytes, more than the {ARG_LIMIT - 1} "
            "a host accepts as one argument"
        )


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
            self._done = f"hk{token()}d"
            setup = _SETUP.format(token=self._done, doublings=int(_DOUBLINGS), pdeathsig=_PDEATHSIG)
            self._chan.sendall(setup.encode())
        except (OSError, EOFError, paramiko.SSHException):
            self._chan.close()
            raise Dropped from None
        except BaseException:
            self._chan.close()
            raise
        self.alive = True
        # Whether the last command's output was seen closed (the relays' done tokens).
        self._settled = False

    def usable(self) -> bool:
        chan = self._chan
        return (
            self.alive and not chan.closed and not chan.eof_received and self.transport.is_active()
        )

    def run(
        self, cmdline: str, timeout: float | None, kill: Killer | None = None
    ) -> tuple[int, bytes, bytes]:
        """Run one command; raise Timeout (after killing it with kill), Dropped or NotStarted."""
        check_length(cmdline.encode("utf-8", _BYTES))
        frame = ShellFrame(self._done)
        script = (
            f"hk_run {int(self._settled)} {frame.start} {frame.pid_tag} {frame.end} "
            f"{quote(cmdline)}\n"
        )
        self._settled = False
        out, err = bytearray(), bytearray()
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self._chan.sendall(script.encode("utf-8", _BYTES))
            done = pump(self._chan, out, err, lambda: frame.scan(out, err), deadline)
        except (Dropped, OSError, EOFError, paramiko.SSHException):
            self.close()
            raise Dropped from None
        if frame.lost:
            self.close()  # the shell died; only the relays were left to say so
            raise Dropped
        if not done:
            self._kill(frame, out, err, kill)
            raise Timeout
        assert frame.rc is not None
        self._settled = self._settle(frame, out, err)
        return (frame.rc, *frame.bodies(out, err))

    def _settle(self, frame: ShellFrame, out: bytearray, err: bytearray) -> bool:
        """Whether the relays' done tokens follow the end lines within _SETTLE."""
        try:
            return pump(
                self._chan,
                out,
                err,
                lambda: frame.settled(out, err),
                time.monotonic() + _SETTLE,
            )
        except (Dropped, OSError, EOFError, paramiko.SSHException):
            self.close()  # the command's result is in; the next one needs a new shell
            return False

    def _kill(self, frame: ShellFrame, out: bytearray, err: bytearray, kill: Killer | None) -> None:
        """Kill the timed-out command; keep the shell if it reports back, else close it."""
        if frame.pid is None:
            self.close()  # the command never said who it is: only closing stops it
            return
        (kill or (lambda pid: kill_group(self.transport, pid)))(frame.pid)
        try:
            limit = time.monotonic() + _GRACE
            if pump(self._chan, out, err, lambda: frame.scan(out, err), limit):
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
    marks = ExecFrame()
    wrapped = (
        f'printf "%s %s\\n" {marks.start} "$$"; printf "%s\\n" {marks.start} >&2; '
        f"exec /bin/sh -c {quote(cmdline)}"
    )
    payload = wrapped.encode("utf-8", _BYTES)
    check_length(payload)  # sshd would drop the whole connection over a longer request
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
