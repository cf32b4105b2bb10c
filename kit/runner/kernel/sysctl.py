"""Sysctls, live and at boot: `sysctl -w` now, and one managed sysctl.d drop-in that boot
applies after the files it overrides (sysctl.d(5)); exact values, floors (`>=N`) and lists
of port ranges (`includes R`).

The drop-in's name sorts after `99-sysctl.conf`, the link through which Debian 11 and 12
(and kubespray's sysctl_file_path) set values at boot, so other files are never edited:
/etc/sysctl.conf belongs to procps and the installers, and Debian 13 has none. systemd-sysctl
orders every directory's `*.conf` by file name (strcmp of the names), so a name starting
"99-zz" comes after "99-sysctl.conf" and the usual "NN-name.conf" files. A file that still
sorts after it and sets a key against the wanted value is refused by name, never edited.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kit.connection import Connection
from kit.edits import sysctl as sysedit
from kit.errors import FixRefused, KitError, KitValueError
from kit.runner import journal
from kit.runner.change import Change, combine
from kit.runner.kernel import confs
from kit.runner.validate import name as valid_name
from kit.runner.validate import path as valid_path

if TYPE_CHECKING:
    from kit.facts import Facts


# Search order of systemd-sysctl and `sysctl --system`; a name in an earlier
# directory hides the same name in a later one.
SYSCTL_DIRS = (
    "/etc/sysctl.d",
    "/run/sysctl.d",
    "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d",
    "/lib/sysctl.d",
)
MANAGED_SYSCTL = "/etc/sysctl.d/99-zz-hostkit.conf"

# -- sysctl --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SysctlState:
    """A key's live value and the value boot would give it, with the file that gives it."""

    key: str
    live: str
    persistent: str | None
    persistent_file: str | None

    @property
    def consistent(self) -> bool:
        return self.persistent is not None and sysedit.same_value(self.live, self.persistent)


def get_sysctl(conn: Connection, key: str) -> str:
    """The live value, blanks collapsed (`32768\\t60999` reads `32768 60999`)."""
    _check_key(key)
    res = conn.read("sysctl -n %s", key)
    if not res.ok:
        raise KitError(f"cannot read sysctl {key}: {res.stderr.strip() or 'no such key'}")
    return sysedit.normalise_value(res.stdout.rstrip("\n"))


def sysctl_state(
    conn: Connection,
    key: str,
    *,
    dirs: Sequence[str] = SYSCTL_DIRS,
) -> SysctlState:
    """Live and boot-time value of key, to tell a check that the two disagree."""
    live = get_sysctl(conn, key)
    files, links = confs.read_tree(conn, list(dirs))
    value, source = sysctl_at_boot(files, key, links=links, dirs=dirs)
    return SysctlState(sysedit.normalise_key(key), live, value, source)


def boot_order(
    files: Iterable[tuple[str, str]],
    links: Mapping[str, str] | None = None,
    *,
    dirs: Sequence[str] = SYSCTL_DIRS,
) -> list[tuple[str, str]]:
    """The files systemd-sysctl applies, in the order it applies them (sysctl.d(5)).

    It reads `*.conf` from dirs only: a name in an earlier directory hides the same name
    in a later one, a link to /dev/null masks it, and the survivors apply in file-name
    order. /etc/sysctl.conf counts only through a link such as 99-sysctl.conf, under
    the link's name. Other (path, text) pairs are ignored.
    """
    links = links or {}
    texts = dict(files)
    names = {p for p in (*texts, *links) if p.endswith(".conf") and posixpath.dirname(p) in dirs}
    chosen: dict[str, str] = {}
    for path in sorted(names, key=lambda p: (dirs.index(posixpath.dirname(p)), p)):
        chosen.setdefault(posixpath.basename(path), path)
    order = []
    for name in sorted(chosen):
        path = chosen[name]
        if links.get(path) == "/dev/null" or path not in texts:
            continue
        order.append((path, texts[path]))
    return order


def sysctl_at_boot(
    files: Iterable[tuple[str, str]],
    key: str,
    *,
    links: Mapping[str, str] | None = None,
    dirs: Sequence[str] = SYSCTL_DIRS,
) -> tuple[str | None, str | None]:
    """(value, file) that boot gives key, from (path, text) pairs and the links among them.

    Pure, so a check can answer from the files facts already carry. The last file in
    boot order that sets key wins: systemd-sysctl overwrites an earlier assignment.
    """
    wanted = sysedit.normalise_key(key)
    value = source = None
    for path, text in boot_order(files, links, dirs=dirs):
        found = sysedit.parse(text).get(wanted)
        if found is not None:
            value, source = found, path
    return value, source


AT_LEAST = ">="


def wanted_value(value: str | int) -> tuple[str, str]:
    """A profile's wanted value as (comparison, value): "=" for an exact value, ">=" for a
    floor such as fs.inotify.max_user_watches, where a higher value is just as good."""
    text = sysedit.normalise_value(str(value))
    if isinstance(value, bool) or not text or any(c in text for c in "\n\r\0"):
        raise KitValueError(f"invalid sysctl value: {value!r}")
    if text.startswith(AT_LEAST):
        floor = text[len(AT_LEAST) :].strip()
        if not floor.isascii() or not floor.isdigit():
            raise KitValueError(f"a sysctl floor must be a whole number, not {floor!r}")
        return AT_LEAST, floor
    return "=", text


def satisfies(actual: str | None, value: str | int) -> bool:
    """Whether a sysctl's actual value meets the wanted one (exact, or at least a floor)."""
    if actual is None:
        return False
    op, want = wanted_value(value)
    if op == "=":
        return sysedit.same_value(actual, want)
    got = sysedit.normalise_value(actual)
    return got.isascii() and got.isdigit() and int(got) >= int(want)


def describe_wanted(value: str | int) -> str:
    op, want = wanted_value(value)
    return want if op == "=" else f"at least {want}"


def set_sysctl(
    conn: Connection,
    facts: Facts | None,
    key: str,
    value: str | int,
    *,
    persistent: bool = True,
    dry_run: bool = False,
    managed_file: str = MANAGED_SYSCTL,
    dirs: Sequence[str] = SYSCTL_DIRS,
) -> Change:
    """Set key live (sysctl -w) and, persistent, in the one managed sysctl.d drop-in, so
    that it wins at boot.

    value is exact ("1") or a floor (">=524288"): a floor never lowers a higher value,
    live or at boot. The managed file's line for key is replaced, never duplicated. No
    other file is edited: one that boot applies before the drop-in and that sets key
    otherwise is overridden and named in the summary; one that boot applies after it and
    sets key against the wanted value is refused (FixRefused) naming the file and line.
    """
    _check_key(key)
    if isinstance(value, bool):
        raise KitValueError(f"invalid value for sysctl {key}: {value!r}")
    try:
        op, want = wanted_value(value)
    except KitValueError:
        raise KitValueError(f"invalid value for sysctl {key}: {value!r}") from None
    live = get_sysctl(conn, key)
    # A floor already met persists the live value, so boot never lowers it.
    persist = live if op == AT_LEAST and satisfies(live, value) else want
    overridden: list[str] = []
    if persistent:
        valid_path(managed_file)
        # Judged before anything is written: a refusal leaves the host as it was.
        overridden = _win_at_boot(conn, key, value, persist, managed_file, dirs)
    steps = []
    # Compared as text: "0" is a value like any other, never "unset".
    if satisfies(live, value):
        steps.append(Change.none(f"{key} is {live}", dry_run=dry_run))
    else:
        if dry_run:
            _settable_live(conn, key)
        with journal.live_step(conn, f"sysctl {key}={want} (was {live})", dry_run=dry_run):
            if not dry_run:
                conn.run("sysctl -q -w %s", f"{key}={want}", sudo=True).check()
        steps.append(Change.made(f"{key}: {live} -> {want} (live)", dry_run=dry_run))
    if persistent:
        steps.append(
            confs.edit(
                conn,
                managed_file,
                lambda t: sysedit.set_key(t, key, persist),
                dry_run,
                key,
            )
        )
    what = f"sysctl {key}={describe_wanted(value)}"
    if overridden and any(step.changed for step in steps):
        what += f" (at boot over {'; '.join(overridden)})"
    return combine(what, steps, dry_run=dry_run)


_KEY_TO_PATH = str.maketrans("./", "/.")  # sysctl(8): a slash in a key is a dot in its name


def _settable_live(conn: Connection, key: str) -> None:
    """Planning: raise what `sysctl -w` would meet, found without writing. In a container
    /proc/sys is mounted read-only, and --fix fails there: the plan must not promise it."""
    path = "/proc/sys/" + key.translate(_KEY_TO_PATH)
    if not conn.read("test -w %s", path, sudo=True).ok:
        raise KitError(
            f"{key} cannot be set live here: {path} is read-only (a container's /proc/sys, "
            "or a key the kernel does not let change), so sysctl -w would fail"
        )


def _win_at_boot(
    conn: Connection,
    key: str,
    value: str | int,
    persist: str,
    managed_file: str,
    dirs: Sequence[str],
) -> list[str]:
    """What the drop-in overrides at boot ("FILE sets V" for each file boot applies
    before it that sets key against the wanted value); FixRefused naming the file and
    line when one that boot applies after it does."""
    files, links = confs.read_tree(conn, list(dirs))
    texts = dict(files)
    # In a dry run the managed file may not exist yet: boot order is what it would be.
    texts[managed_file] = sysedit.set_key(texts.get(managed_file, confs.HEADER), key, persist)
    order = boot_order(texts.items(), links, dirs=dirs)
    names = [p for p, _ in order]
    if managed_file not in names:
        raise KitError(
            f"{managed_file} is masked or hidden, so boot never reads it: "
            f"{key} cannot be made to persist"
        )
    wanted = sysedit.normalise_key(key)
    mine = names.index(managed_file)
    overridden = []
    for index, (path, text) in enumerate(order):
        if index == mine:
            continue
        for line in text.splitlines():
            kv = sysedit.parse_line(line)
            if kv is None or kv[0] != wanted or satisfies(kv[1], value):
                continue
            if index > mine:
                raise FixRefused(
                    f"{path} sets {key}={kv[1]} ({line.strip()!r}) and boot applies it "
                    f"after {managed_file}: change or remove that line by hand"
                )
            overridden.append(f"{path} sets {kv[1]}")
    return list(dict.fromkeys(overridden))


def _check_key(key: str) -> None:
    valid_name("sysctl key", key)
    if "*" in key:
        raise KitValueError(f"invalid sysctl key (a pattern, not a key): {key!r}")


# -- list-valued sysctls -------------------------------------------------------

# A profile value "includes 30000-32767" asks that a list of port ranges such as
# net.ipv4.ip_local_reserved_ports holds the range, whatever else it holds.
INCLUDES = "includes "


def parse_port_ranges(text: str) -> list[tuple[int, int]]:
    """Port ranges of a list such as `30000-32767,40000` (the kernel prints commas; blanks
    are allowed too), merged and sorted; an empty value is an empty list."""
    ranges = []
    for part in text.replace(",", " ").split():
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise KitValueError(f"invalid port range {part!r} (want N or N-M)")
        first, last = int(low), int(high or low)
        if first > last or last > 65535:
            raise KitValueError(f"invalid port range {part!r}")
        ranges.append((first, last))
    merged: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if merged and first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def format_port_ranges(ranges: Iterable[tuple[int, int]]) -> str:
    return ",".join(f"{a}-{b}" if a != b else str(a) for a, b in ranges)


def _included(value: str | int) -> list[tuple[int, int]] | None:
    text = str(value).strip()
    return parse_port_ranges(text[len(INCLUDES) :]) if text.startswith(INCLUDES) else None


def meets(actual: str | None, value: str | int) -> bool:
    """satisfies(), and for "includes R" whether actual's ranges cover every port of R."""
    wanted = _included(value)
    if wanted is None:
        return satisfies(actual, value)
    if actual is None:
        return False
    try:
        have = parse_port_ranges(actual)
    except KitValueError:
        return False
    return all(any(a <= first and last <= b for a, b in have) for first, last in wanted)


def describe_meets(value: str | int) -> str:
    wanted = _included(value)
    if wanted is None:
        return describe_wanted(value)
    return f"a list including {format_port_ranges(wanted)}"


def set_sysctl_including(
    conn: Connection,
    facts: Facts | None,
    key: str,
    value: str | int,
    *,
    dry_run: bool = False,
    managed_file: str = MANAGED_SYSCTL,
    dirs: Sequence[str] = SYSCTL_DIRS,
) -> Change:
    """set_sysctl(), where "includes R" sets the union of the live ranges and R, so that
    ports reserved by someone else stay reserved, live and at boot."""
    wanted = _included(value)
    if wanted is None:
        return set_sysctl(
            conn,
            facts,
            key,
            value,
            dry_run=dry_run,
            managed_file=managed_file,
            dirs=dirs,
        )
    live = get_sysctl(conn, key)
    union = parse_port_ranges(live) + wanted
    exact = format_port_ranges(parse_port_ranges(format_port_ranges(union)))
    return set_sysctl(
        conn, facts, key, exact, dry_run=dry_run, managed_file=managed_file, dirs=dirs
    )
