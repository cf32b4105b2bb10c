"""What every connection offers, whatever carries the bytes."""

from __future__ import annotations

import abc
import os
import re
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Self

from kit.connection import sudo
from kit.connection.quoting import command as fill
from kit.connection.quoting import quote
from kit.connection.result import Result
from kit.connection.secrets import SecretProvider
from kit.connection.spec import HostSpec
from kit.errors import CommandError, KitValueError, SudoError

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OWNER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$")
_TEMP_CHAR = "[0-9A-Za-z]"
_STALE_MINUTES = 15
# The temporary file is named after the writing shell's pid, so that a later write
# can tell a live transfer from one that died before its trap could run (SIGKILL).
# It removes ours only: our names, regular files, untouched for a while, writer gone.
# Owner before mode: chown clears setuid and setgid bits.
_PUT_SCRIPT = """set -e
dest={dest}
dir=$(dirname -- "$dest")
x={char}{char}{char}{char}{char}{char}{char}{char}
for f in "$dir"/.hostkit.*; do
  n=${{f##*/}} pid=
  case $n in
    .hostkit.$x) ;;
    .hostkit.*.$x) pid=${{n#.hostkit.}}; pid=${{pid%%.*}}
      case $pid in ''|*[!0-9]*) continue ;; esac ;;
    *) continue ;;
  esac
  if [ -L "$f" ] || [ ! -f "$f" ]; then continue; fi
  [ -n "$(find "$f" -prune -mmin +{stale} 2>/dev/null)" ] || continue
  if [ -n "$pid" ] && {{ kill -0 "$pid" 2>/dev/null || [ -d "/proc/$pid" ]; }}; then continue; fi
  rm -f -- "$f"
done
tmp=$(mktemp "$dir/.hostkit.$$.XXXXXXXX")
trap 'rm -f -- "$tmp"' EXIT
# dash runs no EXIT trap when a signal kills it: a timeout's TERM, or PIPE once the
# connection is gone and it reports the short write.
trap 'rm -f -- "$tmp"; exit 1' HUP INT TERM PIPE
cat > "$tmp"
# A dropped connection ends stdin early and looks like EOF: never install a short file.
[ "$(wc -c < "$tmp")" -eq {size} ] || {{ echo "hostkit: short write, not installed" >&2; exit 1; }}
if [ -n {owner} ]; then chown -- {owner} "$tmp"
elif [ -z {mode} ] && [ -e "$dest" ]; then chown --reference="$dest" -- "$tmp"; fi
if [ -n {mode} ]; then chmod -- {mode} "$tmp"
elif [ -e "$dest" ]; then chmod --reference="$dest" -- "$tmp"
else chmod 0644 "$tmp"; fi
mv -f -T -- "$tmp" "$dest"
trap - EXIT HUP INT TERM PIPE"""


class Connection(abc.ABC):
    """A way to run commands and move bytes on one host.

    Subclasses implement `_exec`; quoting, sudo and file transfer live here so
    that every transport treats them the same way.
    """

    def __init__(
        self,
        spec: HostSpec,
        *,
        sudo_password: SecretProvider | None = None,
        sudo_user: str | None = None,
        command_timeout: float | None = None,
    ) -> None:
        self.spec = spec
        self._sudo_password = sudo_password
        self._sudo_user = sudo_user
        self.command_timeout = command_timeout
        self._sudo_mode: sudo.SudoMode | None = None
        self._sudo_lock = threading.Lock()

    # -- transport -------------------------------------------------------------

    @abc.abstractmethod
    def _exec(
        self, cmdline: str, *, stdin: bytes | sudo.Input | None, timeout: float | None
    ) -> tuple[int, bytes, bytes]:
        """Run cmdline under sh; return (rc, stdout, stderr). Raise CommandTimeout.

        A sudo.Input stdin carries a password to write only when sudo prompts for it
        (see sudo.Dialog), and data to write only once the command runs.
        """

    def close(self) -> None:  # noqa: B027 - transports without resources need nothing
        """Release the transport."""

    # -- public API ------------------------------------------------------------

    @property
    def name(self) -> str:
        return self.spec.name

    def run(
        self,
        cmd: str,
        *args: str | int | os.PathLike[str],
        sudo: bool | str = False,
        stdin: bytes | str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        """Run a command; %s placeholders in cmd are filled with quoted args.

        sudo=True runs it as the connection's sudo user (root by default); a user
        name runs it as that user, through the same sudo path and password.
        """
        command = fill(cmd, *args)
        cmdline = _with_env(command, env) if env else command
        data = stdin.encode() if isinstance(stdin, str) else stdin
        limit = timeout if timeout is not None else self.command_timeout
        started = time.monotonic()
        if sudo:
            user = sudo if isinstance(sudo, str) else None
            rc, out, err = self._exec_sudo(cmdline, data, limit, user)
        else:
            rc, out, err = self._exec(cmdline, stdin=data, timeout=limit)
        return Result(command, rc, out, err, time.monotonic() - started)

    def read(
        self,
        cmd: str,
        *args: str | int | os.PathLike[str],
        sudo: bool | str = False,
        stdin: bytes | str | None = None,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        """Run a command that only reads the host; otherwise exactly `run`.

        The contract: the command changes nothing on the host that outlives it (temporary
        files it removes itself are allowed). A planning connection (--dry-run) lets
        these through and refuses everything sent with `run` or `put`, so marking a
        command that writes as a read defeats dry run.
        """
        return self.run(cmd, *args, sudo=sudo, stdin=stdin, timeout=timeout, env=env)

    def put(
        self,
        data: bytes,
        path: str,
        *,
        mode: int | str | None = None,
        owner: str | None = None,
        group: str | None = None,
        sudo: bool = False,
    ) -> None:
        """Write data to path atomically: a temporary file beside it, then rename.

        Without mode, an existing file's mode and owner are kept. owner and group
        are set on the temporary file before its mode, so setuid and setgid stay.
        """
        if not path or "\0" in path:
            raise KitValueError(f"invalid path {path!r}")
        mode_arg = _mode(mode) if mode is not None else ""
        for name in (owner, group):
            if name is not None and not _OWNER.match(name):
                raise KitValueError(f"invalid owner or group name {name!r}")
        owner_arg = (owner or "") + (f":{group}" if group else "")
        script = _PUT_SCRIPT.format(
            dest=quote(path),
            mode=quote(mode_arg),
            owner=quote(owner_arg),
            size=len(data),
            char=_TEMP_CHAR,
            stale=_STALE_MINUTES,
        )
        self.run("sh -c %s", script, stdin=data, sudo=sudo).check()

    def get(self, path: str, *, sudo: bool = False) -> bytes:
        if not path or "\0" in path:
            raise KitValueError(f"invalid path {path!r}")
        return self.read("cat -- %s", path, sudo=sudo).check().stdout_bytes

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.spec}>"

    # -- sudo ------------------------------------------------------------------

    def _exec_sudo(
        self, cmdline: str, stdin: bytes | None, timeout: float | None, user: str | None = None
    ) -> tuple[int, bytes, bytes]:
        mode = self._probe_sudo()
        user = user or self._sudo_user
        if mode is sudo.SudoMode.ROOT and user in (None, "root"):
            return self._exec(cmdline, stdin=stdin, timeout=timeout)
        if mode is sudo.SudoMode.MISSING:
            raise SudoError(self.name, "sudo is not installed")
        if mode is sudo.SudoMode.PASSWORD and self._sudo_password is None:
            raise SudoError(self.name, "a password is required and no sudo password was given")
        wrapped = sudo.wrap(cmdline, mode, user)
        feed: bytes | sudo.Input | None = stdin
        if wrapped.needs_password:
            assert self._sudo_password is not None
            feed = sudo.Input(
                stdin,
                secret=self._sudo_password.get(),
                prompt=wrapped.prompt,
                token=wrapped.token,
            )
        rc, out, err = self._exec(wrapped.command, stdin=feed, timeout=timeout)
        clean = sudo.unwrap_stderr(err, wrapped.token, wrapped.prompt)
        if clean is None:
            raise SudoError(self.name, sudo.refusal_reason(err))
        return rc, out, clean

    def _probe_sudo(self) -> sudo.SudoMode:
        with self._sudo_lock:
            if self._sudo_mode is None:
                rc, out, _ = self._exec(sudo.PROBE, stdin=None, timeout=30)
                word = out.decode(errors="replace").strip()
                if rc != 0 or word not in {m.value for m in sudo.SudoMode}:
                    raise CommandError(Result(sudo.PROBE, rc, out, b""), "sudo probe failed")
                self._sudo_mode = sudo.SudoMode(word)
            return self._sudo_mode


def _with_env(command: str, env: Mapping[str, str]) -> str:
    for key in env:
        if not _ENV_NAME.match(key):
            raise KitValueError(f"invalid environment variable name {key!r}")
    exports = " ".join(f"{k}={quote(v)}" for k, v in env.items())
    return f"export {exports}; {command}"


def _mode(mode: int | str) -> str:
    text = format(mode, "o") if isinstance(mode, int) else mode
    if not re.fullmatch(r"0?[0-7]{3,4}", text):
        raise KitValueError(f"invalid file mode {mode!r}")
    return text
