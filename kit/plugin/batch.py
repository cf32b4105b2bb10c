"""testinfra's module reads, answered from one batch per host instead of one round trip each.

A run records, per test and host, which read commands testinfra's modules sent (the
`host.file`, `host.package`, `host.sysctl`, `host.socket`, `host.service`, ... reads),
in pytest's cache. The next run sends those reads to the host as one command when the
first of them is needed, and answers them from its output.

What keeps the verdicts testinfra's own:
- Only commands on READS are ever answered from a batch: exact templates testinfra's
  modules send, with their arguments checked, never a guess about an arbitrary command.
  Everything else runs live, as does a read the recording does not know.
- A batch is gathered during the run, never carried over from an earlier one.
- A batch belongs to one host and the user its commands run as (the login user, or the
  sudo user); the working directory and environment are those of that user's login, so
  a read under `host.sudo()` is never answered from the login user's batch.
- Any command that is not a read (`host.run("touch ...")`), and any test that can reach
  the host another way (the `conn` or `runner` fixture, a hostkit fix), might write:
  from that moment every batch of the run is dropped, and the next read gathers a fresh
  one. Two hosts may be one machine, so that holds for every host, not only that one.
- A batch covers the tests from the current one up to the next one the recording saw
  write, so a suite that writes as it goes reads each thing about once.
- Hosts over local:// are never batched: the test's own Python writes that machine.
  Hosts over nsenter:// are, as SSH hosts: the test's Python does not reach them.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from kit.connection.quoting import quote
from kit.errors import KitError
from kit.plugin.collected import host_label

if TYPE_CHECKING:
    from kit.plugin.hosts import HostContext

CACHE_PREFIX = "hostkit/reads/"
# The transports whose reads are batched: those whose host the test's Python cannot write.
BATCHED = ("ssh", "nsenter")
# A hung read (a FIFO, a stalled NFS mount) must not hold every other read hostage.
BATCH_TIMEOUT = 60.0

_SAFE_NAME = re.compile(r"[A-Za-z0-9_@.:+-]+")
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9_./+-]*")


def _any(arg: str) -> bool:
    return "\0" not in arg


def _name(arg: str) -> bool:
    # Some templates put the argument inside double quotes, where shlex's single quotes
    # would not stop a command substitution: only plain names are taken there.
    return _SAFE_NAME.fullmatch(arg) is not None


def _readable(arg: str) -> bool:
    # Opening a device can act (a watchdog starts when opened); /dev is left live.
    return _any(arg) and not arg.startswith("/dev/") and arg != "/dev"


def _tool(name: str) -> Callable[[str], bool]:
    """A command path as host.find_command returns it."""

    def check(arg: str) -> bool:
        return _PLAIN_PATH.fullmatch(arg) is not None and arg.rsplit("/", 1)[-1] == name

    return check


def _one_of(*names: str) -> Callable[[str], bool]:
    return lambda arg: arg in names


_SS = [
    f"%s --numeric --{scope}{proto}"
    for scope in ("listening", "all")
    for proto in ("", " --tcp", " --udp", " --unix")
]
_NETSTAT = [
    f"%s -n{scope}{proto}" for scope in ("", " -l") for proto in ("", " -t", " -u", " --unix")
]

# template -> one check per argument. The templates are testinfra's own, as its modules
# (file, package, sysctl, socket, service, user, group, mount_point, system_info) and
# Host.exists / find_command send them; each only reads the host.
READS: dict[str, tuple[Callable[[str], bool], ...]] = {
    **{f"test -{flag} %s": (_any,) for flag in "efdxpSL"},
    "realpath %s": (_any,),
    "readlink -f %s": (_any,),
    "grep -qs -- %s %s": (_any, _readable),
    "cat -- %s": (_readable,),
    "ls -1 -q -- %s": (_any,),
    **{f"stat -Lc %%{f} %s": (_readable,) for f in "UuGgaYsi"},
    "md5sum %s | cut -d' ' -f1": (_readable,),
    "sha256sum %s | cut -d ' ' -f 1": (_readable,),
    "command -v command": (),
    "command -v %s": (_any,),
    "which %s": (_any,),
    "dpkg-query -f '${Status}' -W %s": (_any,),
    "dpkg-query -f '${Status} ${Version}' -W %s": (_any,),
    "rpm -q --quiet %s 2>&1": (_any,),
    'rpm -q --queryformat="%%{VERSION}" %s': (_any,),
    'rpm -q --queryformat="%%{RELEASE}" %s': (_any,),
    "apk -e info %s": (_any,),
    "apk -e -v info %s": (_any,),
    "pacman -Q %s": (_any,),
    "%s -n %s": (_tool("sysctl"), _any),
    **{t: (_tool("ss"),) for t in _SS},
    **{t: (_tool("netstat"),) for t in _NETSTAT},
    'systemctl list-unit-files | grep -q "^%s"': (_name,),
    "systemctl is-active %s": (_name,),
    "systemctl is-enabled %s": (_name,),
    "systemctl show %s": (_name,),
    # testinfra quotes the pattern (S??name) in single quotes, where its glob is inert.
    "find -L /etc/rc?.d/ -name %s": (_any,),
    # An LSB init script's status action only reports (and `service` maps it to systemctl).
    "%s %s status": (_tool("service"), _name),
    "id -nu": (),
    **{f"id{flag} %s": (_any,) for flag in ("", " -u", " -g", " -ng", " -nG", " -G")},
    "getent passwd %s": (_any,),
    "getent shadow %s": (_any,),
    "getent passwd": (),
    "cat /etc/passwd": (),
    "getent group %s": (_any,),
    "getent group %s | cut -d':' -f3": (_any,),
    "getent group %s | cut -d':' -f4": (_any,),
    "getent group": (),
    "cat /etc/group": (),
    "cat /proc/mounts": (),
    "uname -s": (),
    "uname -r": (),
    "uname -m": (),
    "cat /etc/os-release": (),
    "cat /etc/redhat-release": (),
    "cat /etc/alpine-release": (),
    "lsb_release -a": (),
    "%s -c 'import locale;print(locale.getpreferredencoding())'": (_one_of("python3", "python"),),
}


def is_read(template: str, args: tuple[Any, ...]) -> bool:
    """Whether template % args is one of testinfra's module reads, argument by argument."""
    checks = READS.get(template)
    if checks is None or len(checks) != len(args):
        return False
    return all(isinstance(a, str) and ok(a) for a, ok in zip(args, checks, strict=True))


# -- the batch on the host ---------------------------------------------------------------

# The reads run in one shell of the kind the live command would get (the login shell, or
# sh under sudo as the kit's sudo path runs it), each in a subshell of its own with stdin
# /dev/null and its streams in files the script removes. What that shell prints while
# starting (a login file's output) is what each live command would print first, so it
# goes in front of every read's own output. Reads only read, so they run side by side,
# PARALLEL at a time: a host spends the batch waiting on the slowest few (systemctl asks
# PID 1, dpkg-query reads its database), not on their sum.
# Each read is written into the script as the subshell `( READ\n) ... &`, not run by
# eval: the background subshell is then the read's only process beyond its own (a simple
# command is exec'd in it), where eval in a subshell costs two. A read is one of testinfra's
# exact templates with its arguments checked (is_read), so it is whole shell syntax; if one
# were not, its status would be missing and the batch not whole: every read then runs live.
MARK = "hk-batch"  # names the batch in process lists and logs
PARALLEL = 8
_SCRIPT = """hk_b=$(mktemp -d -t hk-batch.XXXXXXXX) || exit 97
trap 'rm -rf -- "$hk_b"' EXIT
trap 'exit 1' HUP INT TERM PIPE
{shell} -c {reads} hk "$hk_b" </dev/null >"$hk_b/so" 2>"$hk_b/se"
cd -- "$hk_b" && set -- so se && hk_i=0
while [ $hk_i -lt {count} ]; do
  hk_i=$((hk_i + 1)); hk_r=; read -r hk_r <"r$hk_i"; printf "%s " "$hk_r"
  set -- "$@" "o$hk_i" "e$hk_i"
done
echo; wc -c -- "$@"; echo hk-end; cat -- "$@"
"""
_START = '( {line}\n) </dev/null >"$hk_b/o{i}" 2>"$hk_b/e{i}" & hk_p{i}=$!\n'
_STATUS = 'wait "$hk_p{i}"; echo "$?" >"$hk_b/r{i}"\n'
_LOGIN_SHELL = '"${{SHELL:-/bin/sh}}"'
_SUDO_SHELL = "sh"
# Linux takes at most 128 KiB in one argument, and the batch travels as one.
MAX_SCRIPT = 96 * 1024


def _reads(lines: list[str]) -> str:
    """The login shell's script: the reads, PARALLEL at a time, each status once it ends."""
    parts = ["hk_b=$1\n"]
    for first in range(1, len(lines) + 1, PARALLEL):
        group = range(first, min(first + PARALLEL, len(lines) + 1))
        parts += [_START.format(line=lines[i - 1], i=i) for i in group]
        parts += [_STATUS.format(i=i) for i in group]
    return "".join(parts)


def script(lines: list[str], *, sudo: bool) -> str:
    return _SCRIPT.format(
        shell=_SUDO_SHELL if sudo else _LOGIN_SHELL.format(),
        reads=quote(_reads(lines)),
        count=len(lines),
    )


def chunks(lines: list[str]) -> list[list[str]]:
    """lines in groups whose scripts each fit in one argument."""
    out: list[list[str]] = [[]]
    size = 0
    for i, line in enumerate(lines, 1):
        job = _START.format(line=line, i=i) + _STATUS.format(i=i)
        cost = len(quote(job).encode("utf-8", "surrogateescape"))
        if out[-1] and size + cost > MAX_SCRIPT:
            out.append([])
            size = 0
        out[-1].append(line)
        size += cost
    return [c for c in out if c]


def parse(out: bytes, count: int) -> list[tuple[int, bytes, bytes]]:
    """The batch's answers in order; ValueError when the output is not whole."""
    head, _, rest = out.partition(b"\n")
    rcs = [int(x) for x in head.split()]
    sizes_text, sep, data = rest.partition(b"hk-end\n")
    sizes = [int(line.split()[0]) for line in sizes_text.splitlines() if line.strip()]
    files = 2 + 2 * count
    if len(rcs) != count or not sep or len(sizes) != files + 1:
        raise ValueError("batch output is not whole")
    sizes = sizes[:files]
    if sum(sizes) != len(data):
        raise ValueError("batch output is not whole")
    parts = []
    pos = 0
    for n in sizes:
        parts.append(data[pos : pos + n])
        pos += n
    start_out, start_err = parts[0], parts[1]
    return [
        (rc, start_out + parts[2 + 2 * i], start_err + parts[3 + 2 * i]) for i, rc in enumerate(rcs)
    ]


# -- the run's state ----------------------------------------------------------------------


Answer = tuple[int, bytes, bytes]  # rc, stdout, stderr


@dataclass
class _Batch:
    answers: dict[str, Answer]
    covers: set[str]  # the tests whose recorded reads it was gathered for


@dataclass
class _Seen:
    reads: list[tuple[str, str]] = field(default_factory=list)  # (user, command line)
    writes: bool = False


Context = tuple[str, str]  # (host key, user the command runs as: "" for the login user)


class Batcher:
    """The pytest plugin object that records reads and answers them from batches."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self._lock = threading.RLock()
        self._recorded: dict[str, dict[str, Any]] = {}  # host label -> nodeid -> entry
        self._seen: dict[str, dict[str, _Seen]] = {}  # host label -> nodeid -> this run
        self._batches: dict[Context, _Batch] = {}
        self._failed: set[Context] = set()
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self._done: set[str] = set()
        self._first: dict[str, str] = {}  # host label -> its first test
        self._generation = 0  # bumped by every drop, so a batch fetched meanwhile is not kept
        # The test under way is pytest's thread's. A --fix run may check hosts on threads of
        # their own (kit.plugin.fixpool): there no test is under way, so their reads run live
        # and are not recorded against pytest's test, and their writes still drop every batch.
        self._local = threading.local()

    @property
    def current(self) -> str | None:
        return getattr(self._local, "current", None)

    @current.setter
    def current(self, nodeid: str | None) -> None:
        self._local.current = nodeid

    @property
    def _opaque(self) -> bool:
        return getattr(self._local, "opaque", False)

    @_opaque.setter
    def _opaque(self, value: bool) -> None:
        self._local.opaque = value

    @property
    def cache(self) -> Any:
        # None under -p no:cacheprovider: nothing is recorded, and every read runs live.
        return getattr(self.config, "cache", None)

    # -- pytest hooks ------------------------------------------------------------------

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self._order = [item.nodeid for item in session.items]
        self._index = {nodeid: i for i, nodeid in enumerate(self._order)}
        for item in session.items:
            label = host_label(item)
            if label is not None:
                self._first.setdefault(label, item.nodeid)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        with self.running(item):
            return (yield)

    @contextlib.contextmanager
    def running(self, item: pytest.Item) -> Iterator[None]:
        """The item's test is under way on this thread: pytest's, or its host's thread
        under a --fix that fixes hosts at once (kit.plugin.fixpool)."""
        opaque = _reaches_host_otherwise(item)
        with self._lock:
            self.current, self._opaque = item.nodeid, opaque
            if opaque:
                self.invalidate()
        try:
            yield
        finally:
            with self._lock:
                if opaque:
                    self.invalidate()
                self._done.add(item.nodeid)
                self.current, self._opaque = None, False

    def pytest_sessionfinish(self) -> None:
        if self.cache is None:
            return
        with self._lock:
            for label, seen in self._seen.items():
                key = _cache_key(label)
                # Read again: an xdist worker sharing the host may have written meanwhile.
                entries = dict(self.cache.get(key, {}))
                for nodeid, s in seen.items():
                    entries[nodeid] = {"reads": [list(r) for r in s.reads], "writes": s.writes}
                self.cache.set(key, entries)

    # -- the backend's side ----------------------------------------------------------

    def answer(
        self, ctx: HostContext, user: str, line: str, read: bool
    ) -> tuple[int, bytes, bytes] | None:
        """The batch's answer to a command, or None to run it live.

        Called before the command runs; a command that is not a read drops every batch.
        """
        with self._lock:
            self._note(ctx.label, user, line, read)
            if not read:
                self.invalidate()
                return None
            if self._opaque or self.cache is None or ctx.spec.scheme not in BATCHED:
                return None
            nodeid = self.current
            if nodeid is None:
                return None
            where: Context = (ctx.key, user)
            if where in self._failed:
                return None
            batch = self._batches.get(where)
            if batch is None or nodeid not in batch.covers:
                batch = self._gather(ctx, where, nodeid)
                if batch is None:
                    return None
            return batch.answers.get(line)

    def prefetch(self, ctx: HostContext) -> None:
        """Gather a host's first batch of login-user reads before its first test runs.

        Called from the threads that connect every host at once, so all hosts' first
        batches travel together instead of one host after another.
        """
        if self.cache is None or ctx.spec.scheme not in BATCHED:
            return
        where: Context = (ctx.key, "")
        with self._lock:
            first = self._first.get(ctx.label)
            if first is None or where in self._batches or where in self._failed:
                return
            lines, covers = self._window(ctx.label, "", first)
            generation = self._generation
        answers = self._fetch(ctx, "", lines)
        with self._lock:
            if answers is None:
                self._failed.add(where)
            elif generation == self._generation and where not in self._batches:
                self._batches[where] = _Batch(dict(zip(lines, answers, strict=True)), covers)

    def invalidate(self) -> None:
        with self._lock:
            self._batches.clear()
            self._generation += 1

    # -- internals -------------------------------------------------------------------

    def _note(self, label: str, user: str, line: str, read: bool) -> None:
        if self.current is None:
            return
        seen = self._seen.setdefault(label, {}).setdefault(self.current, _Seen())
        if not read:
            seen.writes = True
        elif (user, line) not in seen.reads:
            seen.reads.append((user, line))

    def _entries(self, label: str) -> dict[str, Any]:
        if label not in self._recorded:
            assert self.cache is not None
            found = self.cache.get(_cache_key(label), {})
            self._recorded[label] = found if isinstance(found, dict) else {}
        return self._recorded[label]

    def _window(self, label: str, user: str, nodeid: str) -> tuple[list[str], set[str]]:
        """The recorded reads of this user from this test up to the next test that wrote."""
        entries = self._entries(label)
        start = self._index.get(nodeid)
        following = self._order[start:] if start is not None else [nodeid]
        lines: dict[str, None] = {}
        covers: set[str] = set()
        for other in following:
            if other in self._done:
                continue
            covers.add(other)
            entry = entries.get(other)
            if not isinstance(entry, dict):
                continue
            for pair in entry.get("reads", ()):
                if isinstance(pair, list) and len(pair) == 2 and pair[0] == user:
                    lines[str(pair[1])] = None
            if entry.get("writes") and other != nodeid:
                break
        return list(lines), covers

    def _gather(self, ctx: HostContext, where: Context, nodeid: str) -> _Batch | None:
        lines, covers = self._window(ctx.label, where[1], nodeid)
        answers = self._fetch(ctx, where[1], lines)
        if answers is None:
            # Every read then runs live, each with testinfra's own outcome.
            self._failed.add(where)
            return None
        batch = _Batch(dict(zip(lines, answers, strict=True)), covers)
        self._batches[where] = batch
        return batch

    @staticmethod
    def _fetch(ctx: HostContext, user: str, lines: list[str]) -> list[Answer] | None:
        """The reads' answers, in order, from as few commands as fit; None when one failed."""
        answers: list[Answer] = []
        try:
            for group in chunks(lines):
                res = ctx.conn.read(
                    # nsenter:// runs commands under /bin/sh, not a login shell.
                    script(group, sudo=bool(user) or ctx.spec.scheme == "nsenter"),
                    sudo=user or False,
                    timeout=BATCH_TIMEOUT,
                )
                if res.rc != 0:
                    raise ValueError(f"batch exited {res.rc}")
                answers += parse(res.stdout_bytes, len(group))
        except (KitError, ValueError):
            return None
        return answers


def _cache_key(label: str) -> str:
    return CACHE_PREFIX + hashlib.sha256(label.encode()).hexdigest()[:16]


def _reaches_host_otherwise(item: pytest.Item) -> bool:
    """Whether the test can change a host other than through testinfra's commands. A
    check's fix under --fix writes too, but only once its check has failed: the fix flow
    drops every batch when a fix starts (kit.plugin.fix), so the check reads from them."""
    names = getattr(item, "fixturenames", ())
    return "conn" in names or "runner" in names


_active: Batcher | None = None


def install(batcher: Batcher | None) -> None:
    global _active
    _active = batcher


def active() -> Batcher | None:
    return _active
