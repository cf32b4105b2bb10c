"""Sysctls, live and at boot: `sysctl -w` now, and one managed sysctl.d file that wins
over every other file boot applies (sysctl.d(5)); exact values, floors (`>=N`) and lists
of port ranges (`includes R`).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kit.connection import Connection
from kit.edits import lines
from kit.edits import sysctl as sysedit
from kit.errors import KitError, KitValueError
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
MANAGED_SYSCTL = "/etc/sysctl.d/99-hostkit.conf"

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
    """Set key live (sysctl -w) and, persistent, in the one managed sysctl.d file, so that
    it wins at boot.

    value is exact ("1") or a floor (">=524288"): a floor never lowers a higher value,
    live or at boot. The managed file's line for key is replaced, never duplicated. A
    file that boot applies after the managed one and that sets key against the wanted
    value has that line commented out behind a marker; a vendor file outside the first
    directory is overridden by a same-named copy there with the line commented.
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
    boot_edits: list[tuple[str, str]] = []
    if persistent:
        valid_path(managed_file)
        # Planned before anything is written: a refusal leaves the host as it was.
        boot_edits = _win_at_boot(conn, key, value, persist, managed_file, dirs)
    steps = []
    # Compared as text: "0" is a value like any other, never "unset".
    if satisfies(live, value):
        steps.append(Change.none(f"{key} is {live}", dry_run=dry_run))
    else:
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
        steps += [confs.edit(conn, p, lambda _t, e=text: e, dry_run) for p, text in boot_edits]
    return combine(f"sysctl {key}={describe_wanted(value)}", steps, dry_run=dry_run)


MARKER = "# hostkit: overridden by {managed}: "


def _win_at_boot(
    conn: Connection,
    key: str,
    value: str | int,
    persist: str,
    managed_file: str,
    dirs: Sequence[str],
) -> list[tuple[str, str]]:
    """(path, new text) for every file boot applies after managed_file that sets key
    against the wanted value: its lines for key commented out behind the marker."""
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
    marker = MARKER.format(managed=managed_file)
    first = posixpath.normpath(dirs[0])
    edits: list[tuple[str, str]] = []
    # Every file is judged before the first write, so a refusal leaves all of them as
    # they were.
    for path, text in order[names.index(managed_file) + 1 :]:
        found = sysedit.parse(text).get(wanted)
        if found is None or satisfies(found, value):
            continue
        edited = _comment_key(text, wanted, value, marker)
        if posixpath.dirname(path) != first:
            # A vendor file is its package's; a same-named file in the first directory
            # hides it (sysctl.d(5)), so the override lives there.
            edits.append((posixpath.join(first, posixpath.basename(path)), edited))
            continue
        target = links.get(path)
        if target is not None and not target.startswith(posixpath.dirname(first) + "/"):
            # Writing through this link would edit a file outside the configuration tree.
            raise KitError(
                f"{path} links to {target} and sets {key} to {found} after {managed_file}: "
                "comment that line out by hand"
            )
        edits.append((path, edited))
    return edits


def _comment_key(text: str, wanted: str, value: str | int, marker: str) -> str:
    out = []
    for line in lines(text):
        kv = sysedit.parse_line(line)
        if kv is not None and kv[0] == wanted and not satisfies(kv[1], value):
            out.append(marker + line)
        else:
            out.append(line)
    return "".join(out)


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
