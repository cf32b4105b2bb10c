"""What the fix benchmark may never change on the machine its fleet runs on: /etc and the
kernel's settings in /proc/sys, read before and compared after.

The fleet's hosts share this machine's filesystem and kernel (benchmarks/fleet.py);
their fixes write only to tmpfs mounts and network namespaces of their own, and this
is the check that they did.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Iterable
from pathlib import Path

# Values the kernel changes by itself from one read to the next: counters, the entropy
# pool, the last pid. Taken from a machine at rest; `volatile` adds what moves while
# this run looks (see `snapshot_twice`).
KERNEL_COUNTERS = re.compile(
    r"fs\.(dentry-state|inode-nr|inode-state|file-nr|aio-nr|quota\..*)"
    r"|kernel\.(random\..*|ns_last_pid|pty\.nr|sched_.*stat.*)"
    r"|net\.netfilter\.nf_conntrack_count"
)

# Other jobs on this machine (the kit's ssh tier, tests/ssh/sshd.py, makes and removes
# throwaway users and their sudoers file) rewrite these; no fix of the benchmark names
# any of them.
OTHERS = re.compile(
    r"/etc/(passwd|shadow|group|gshadow|subuid|subgid)(-|\+|\.lock)?"
    r"|/etc/sudoers\.d/hostkit-test.*"
)


def etc(root: str = "/etc") -> dict[str, tuple[object, ...]]:
    """Every entry under root: type and mode, owner, size, mtime, and a link's target."""
    found: dict[str, tuple[object, ...]] = {}
    for top, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = os.path.join(top, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            target = os.readlink(path) if stat.S_ISLNK(st.st_mode) else ""
            # A directory's size and mtime move with its entries, which are compared
            # one by one.
            moved = (0, 0) if stat.S_ISDIR(st.st_mode) else (st.st_size, st.st_mtime_ns)
            found[path] = (st.st_mode, st.st_uid, st.st_gid, *moved, target)
    return found


def sysctls(root: str = "/proc/sys") -> dict[str, str]:
    """Every readable setting, as `sysctl -a` names it."""
    found: dict[str, str] = {}
    for top, _dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(top, name)
            key = os.path.relpath(path, root).replace("/", ".")
            try:
                found[key] = Path(path).read_text(errors="replace")
            except OSError:
                continue  # write-only (vm.drop_caches) or refused
    return found


def snapshot() -> tuple[dict[str, tuple[object, ...]], dict[str, str]]:
    return etc(), sysctls()


def snapshot_twice(pause: float = 0.5) -> tuple[tuple[dict, dict], set[str]]:
    """A snapshot, and the sysctls that changed by themselves over `pause` seconds."""
    first = sysctls()
    time.sleep(pause)
    now = snapshot()
    return now, {k for k in first.keys() | now[1].keys() if first.get(k) != now[1].get(k)}


def changes(
    before: tuple[dict, dict], after: tuple[dict, dict], volatile: Iterable[str] = ()
) -> list[str]:
    """What differs, one line per file or setting; empty when this machine is as it was."""
    skip = set(volatile)
    out = []
    (etc_a, sys_a), (etc_b, sys_b) = before, after
    for path in sorted(etc_a.keys() | etc_b.keys()):
        if etc_a.get(path) != etc_b.get(path) and not OTHERS.fullmatch(path):
            out.append(f"{path}: {etc_a.get(path)} -> {etc_b.get(path)}")
    for key in sorted(sys_a.keys() | sys_b.keys()):
        if key in skip or KERNEL_COUNTERS.fullmatch(key):
            continue
        if sys_a.get(key) != sys_b.get(key):
            out.append(f"sysctl {key}: {sys_a.get(key)!r} -> {sys_b.get(key)!r}")
    return out
