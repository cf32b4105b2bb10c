"""NetworkManager's configuration as NetworkManager merges it (NetworkManager.conf(5)).

NetworkManager.conf is read first, then the conf.d snippets in the alphabetical order
of their file names; a name in /etc/NetworkManager/conf.d hides the same name in
/run/NetworkManager/conf.d, which hides the one in /usr/lib/NetworkManager/conf.d.
A later `key=` replaces the value; for list keys `key+=` appends and `key-=` removes.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable, Mapping

from kit.errors import KitValueError

MAIN = "/etc/NetworkManager/NetworkManager.conf"
# Earlier directories hide the same file name in later ones.
CONF_DIRS = (
    "/etc/NetworkManager/conf.d",
    "/run/NetworkManager/conf.d",
    "/usr/lib/NetworkManager/conf.d",
)


def read_order(paths: Iterable[str]) -> list[str]:
    """The files NetworkManager reads, in order, from the paths that exist."""
    present = set(paths)
    chosen: dict[str, str] = {}
    for directory in CONF_DIRS:
        for path in sorted(present):
            name = posixpath.basename(path)
            if posixpath.dirname(path) == directory and name.endswith(".conf"):
                chosen.setdefault(name, path)
    order = [MAIN] if MAIN in present else []
    return order + [chosen[name] for name in sorted(chosen)]


def _entries(text: str, section: str, key: str) -> list[tuple[str, str]]:
    """(operator, value) of each assignment to key in section: "=", "+=" or "-="."""
    found: list[tuple[str, str]] = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            continue
        if current != section or "=" not in line:
            continue
        name, _, value = line.partition("=")
        name = name.strip()
        op = "="
        if name.endswith(("+", "-")):
            op, name = name[-1] + "=", name[:-1].strip()
        if name == key:
            found.append((op, value.strip()))
    return found


def split_list(value: str) -> list[str]:
    """A list value: items separated by ';' (',' also separates device specs)."""
    return [item.strip() for item in value.replace(",", ";").split(";") if item.strip()]


def merged_list(files: Mapping[str, str], section: str, key: str) -> list[str]:
    """The value of a list key once every file in read order is applied."""
    items: list[str] = []
    for path in read_order(files):
        for op, value in _entries(files[path], section, key):
            new = split_list(value)
            if op == "=":
                items = new
            elif op == "+=":
                items += [i for i in new if i not in items]
            else:
                items = [i for i in items if i not in new]
    return items


def spec_covers(specs: Iterable[str], wanted: str) -> bool:
    """Whether a device-spec list leaves what wanted names unmanaged.

    wanted is an `interface-name:PATTERN`; a spec covers it when it is the same, or an
    interface-name glob that matches the pattern itself (interface-name:* covers all).
    `except:` specs are not modelled: such a list is treated as covering nothing extra.
    """
    prefix = "interface-name:"
    if not wanted.startswith(prefix):
        raise KitValueError(f"device spec {wanted!r} must start with {prefix}")
    pattern = wanted[len(prefix) :].lstrip("=~")
    for spec in specs:
        if spec == "*" or spec == wanted:
            return True
        if spec.startswith(prefix):
            glob = spec[len(prefix) :]
            if not glob.startswith(("=", "~")) and fnmatch.fnmatchcase(pattern, glob):
                return True
    return False


def interface_matches(specs: Iterable[str], interface: str) -> bool:
    """Whether an interface-name spec list names the interface (glob or exact)."""
    prefix = "interface-name:"
    for spec in specs:
        if not spec.startswith(prefix):
            continue
        glob = spec[len(prefix) :]
        if glob.startswith("="):
            if glob[1:] == interface:
                return True
        elif fnmatch.fnmatchcase(interface, glob.lstrip("~")):
            return True
    return False


def drop_in(specs: Iterable[str]) -> str:
    """A conf.d snippet that adds specs to the unmanaged devices, as kubespray writes it."""
    items = list(specs)
    for item in items:
        if not item or any(c in item for c in ";\n\r,") or item != item.strip():
            raise KitValueError(f"invalid device spec {item!r}")
    return "[keyfile]\nunmanaged-devices+=" + ";".join(items) + "\n"
