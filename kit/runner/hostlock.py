"""One fixer per host: a lock under /run that names its run and the process holding it.

The holder is the process whose life bounds the run's access to the host: sshd's
session process for an SSH connection, the controller itself for a local one, and
for nsenter:// a shell the connection keeps inside the host's namespaces. A
lock whose holder is gone (the controller was killed, the connection dropped, the
host rebooted and emptied /run) is stale and is taken over; a live one makes the
next run wait, then give up. The check-and-take runs under flock(1), so two runs
racing for a stale lock cannot both win.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from kit.connection import Connection, Result, quote
from kit.errors import KitError, KitValueError
from kit.runner import lifeline, validate

LOCK_DIR = "/run/hostkit"

# The lock directory is trusted only when it is the directory named (not reached through a
# link), owned by the user taking the lock (root) and writable by no one else: then no
# one else can plant a link in it. Once checked, the script works inside it (cd) by
# relative names, so swapping the path afterwards changes nothing. Prints `unsafe WHY`
# and stops when it is not; WHY is `link`, or the directory's owner uid, mode and ours.
_ENTER = """d={dir}
mkdir -p -m 0755 -- "$d" && cd -P -- "$d" || exit 1
named=$(stat -c '%d:%i %u %a' -- "$d"); here=$(stat -c '%d:%i %u %a' .)
if [ -L "$d" ] || [ "$named" != "$here" ]; then echo "unsafe link"; {refused}; fi
set -- $here; me=$(id -u)
if [ "$2" != "$me" ] || {{ [ "$3" != 700 ] && [ "$3" != 755 ]; }}; then
  echo "unsafe $2 $3 $me"; {refused}
fi
"""
# The holder, found by the command that takes the lock (one round trip fewer than asking
# first): up the process chain from this shell, as kit.runner.lifeline reads it, the first
# process {match} says holds the connection (Lifeline.holder's rule for the transport).
# Prints `noholder` and stops when there is none; else hp and hs are its pid and start.
_HOLDER = """hp=; hs=; p=$$; n=0
while [ -n "$p" ] && [ "$p" -gt 0 ] && [ "$n" -lt 64 ]; do
  stat=$(cat /proc/$p/stat 2>/dev/null) || break
  c=$(cat /proc/$p/comm 2>/dev/null) || c=
  set -- ${{stat##*) }}
  if {match}; then hp=$p; hs=${{20}}; break; fi
  [ "$p" = 1 ] && break
  p=$2
  n=$((n + 1))
done
[ -n "$hp" ] || {{ echo noholder; exit 0; }}
"""
# What holds each transport's connection: sshd's session process over SSH, the controller
# itself on a local connection (its pid filled in). Others ask kit.runner.lifeline first.
_HOLDS = {"ssh": 'case "$c" in sshd*) true;; *) false;; esac', "local": '[ "$p" = {pid} ]'}
# The guard is a lock on the directory itself (no file to create or follow). The owner
# file is read only when it is a regular file, and written as a new file of its own
# (mktemp: O_EXCL) renamed over the old name: a rename replaces a link, never follows it.
_TAKE = (
    "set -e\n{holder}"
    + _ENTER.replace("{refused}", "exit 0")
    + """exec 9<.
flock -w 10 9
o=fix.owner
if [ -f "$o" ] && [ ! -L "$o" ] && [ -s "$o" ]; then
  read run pid start < "$o" || true
  if [ "$run" != {run} ] && [ -r /proc/$pid/stat ]; then
    now=$(sed 's/.*) //' /proc/$pid/stat | cut -d' ' -f20)
    [ "$now" = "$start" ] && {{ echo "busy $run"; exit 0; }}
  fi
fi
t=$(mktemp fix.owner.XXXXXX)
printf '%s %s %s\\n' {run} "$hp" "$hs" > "$t" && mv -f -T -- "$t" "$o" ||
  {{ rm -f -- "$t"; exit 1; }}
echo taken
"""
)
# A directory no longer safe is left alone: whatever is in it is not this run's lock.
_RELEASE = (
    _ENTER.replace("{refused}", "exit 0")
    + """exec 9<.; flock -w 10 9
o=fix.owner
[ -f "$o" ] && [ ! -L "$o" ] && read run rest < "$o" && [ "$run" = {run} ] && rm -f -- "$o"
true"""
)


class UnsafeLockDir(KitError):
    """The lock directory is a link, not root's, or writable by others: it is not used."""

    def __init__(self, host: str, directory: str, answer: str) -> None:
        words = answer.split()
        if words[1:2] == ["link"]:
            why = "it is reached through a symbolic link"
        elif len(words) == 4:
            _, uid, mode, me = words
            why = f"mode {mode.zfill(4)}, owned by {_user(uid)}"
            if uid == me:
                why = f"mode {mode.zfill(4)}"
            elif mode in ("700", "755"):
                why = f"owned by {_user(uid)}"
        else:
            why = "it cannot be checked"
        super().__init__(
            f"{host}: refusing the fix lock directory {directory}: {why}; it must be a "
            "directory owned by root with mode 0700 or 0755 (remove it, or name another "
            "with hostkit_lock_dir)"
        )


def lock_directory(value: str) -> str:
    """The lock directory as the scripts name it (validate.state_dir)."""
    try:
        return validate.state_dir(value)
    except KitValueError as exc:
        raise KitValueError(f"invalid fix lock directory {exc}") from None


def _user(uid: str) -> str:
    """A uid as the operator knows it: its name on this machine is no guide to the host's."""
    return "root" if uid == "0" else f"uid {uid}"


class HostBusy(KitError):
    """Another run holds the host's fix lock."""

    def __init__(self, host: str, holder: str, waited: float) -> None:
        super().__init__(
            f"{host}: another hostkit run ({holder}) is fixing this host; waited {waited:g}s"
        )
        self.holder = holder


@dataclass
class HostLock:
    conn: Connection
    run_id: str
    directory: str = LOCK_DIR
    held: bool = False

    def __post_init__(self) -> None:
        self.directory = lock_directory(self.directory)

    def acquire(self, timeout: float, poll: float = 1.0, then: str = "") -> Result:
        """Take the lock, waiting up to timeout seconds; HostBusy when it stays taken.

        then: a script run in the same command once the lock is taken, and only then (the
        run's record opened: kit.plugin.fixhost); the command's result, whose output and
        exit status after the line `taken` are that script's."""
        holder = self._holder()
        deadline = time.monotonic() + timeout
        while True:
            script = _TAKE.format(holder=holder, dir=quote(self.directory), run=quote(self.run_id))
            if then:
                # Its own subshell, out of the lock directory and its flock (a run racing
                # for the lock waits for the take only); its status is the command's.
                script += f"exec 9<&-; cd / && (\n{then}\n)\n"
            res = self.conn.run("sh -c %s", script, sudo=True)
            answer, _, rest = res.stdout.partition("\n")
            if answer.strip() == "taken" and (res.ok or then):
                self.held = True
                return Result(res.command, res.rc, rest.encode(), res.stderr_bytes, res.duration)
            answer = res.stdout.strip()
            if res.ok and answer == "noholder":
                raise KitError(f"{self.conn.name}: cannot tell which process holds this connection")
            if res.ok and answer.startswith("unsafe "):
                raise UnsafeLockDir(self.conn.name, self.directory, answer)
            if not (res.ok and answer.startswith("busy ")):
                raise KitError(
                    f"{self.conn.name}: cannot take the fix lock in {self.directory}: "
                    f"{(res.stderr or res.stdout).strip()[:200]}"
                )
            if time.monotonic() >= deadline:
                raise HostBusy(self.conn.name, answer[5:], timeout)
            time.sleep(min(poll, max(0.0, deadline - time.monotonic())))

    def release(self) -> None:
        if self.held:
            self.conn.run("sh -c %s", self.release_script(), sudo=True)
            self.held = False

    def release_script(self) -> str:
        """What release sends, for a caller that sends it with its own (kit.plugin.fixhost:
        after the run's record is closed); the lock counts as released once it is handed."""
        self.held = False
        return _RELEASE.format(dir=quote(self.directory), run=quote(self.run_id))

    def _holder(self) -> str:
        """The take script's start: what sets hp and hs, the holder's pid and start time."""
        if self.conn.spec.scheme == "nsenter":
            # The controller may run outside the host's pid namespace (a container
            # entered from outside): the connection keeps a process of its own inside.
            pid, start = self.conn.holder()  # type: ignore[attr-defined]
            return f"hp={int(pid)}; hs={quote(start)}\n"
        match = _HOLDS.get(self.conn.spec.scheme)
        if match is not None:
            return _HOLDER.format(match=match.format(pid=os.getpid()))
        line = lifeline.read(self.conn)
        proc = line.holder(None)
        if proc is None:
            raise KitError(f"{self.conn.name}: cannot tell which process holds this connection")
        return f"hp={int(proc.pid)}; hs={quote(proc.start)}\n"
