"""Guards that keep the runner from cutting the access the kit is using.

Every runner operation that can cut a connection (stopping, disabling or
restarting a unit, killing a process, firewall changes, a reboot, changes to the
connecting user, its keys or its sudo rights) calls one of these first. A guard
only reads; it raises ProtectedError before the operation sends any write, so a
refused operation never half-runs, under dry run as well.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable

from kit.connection import Connection
from kit.errors import ProtectedError
from kit.runner import lifeline, netfilter
from kit.runner.lifeline import Lifeline

# Files whose change decides whether anyone, the kit included, can log in.
_LOGIN_FILES = (
    "/etc/ssh/sshd_config",
    "/etc/ssh/sshd_config.d/*",
    "/etc/pam.d/sshd",
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/nsswitch.conf",
)
# Only matter while the kit relies on sudo (it connects as another user than root).
_SUDO_FILES = ("/etc/sudoers", "/etc/sudoers.d/*")


def units(conn: Connection, names: Iterable[str], action: str) -> Lifeline | None:
    """Refuse to `action` any of these units when the connection depends on it."""
    wanted = [lifeline.normalize_unit(n) for n in names]
    if not wanted:
        return None
    line = lifeline.read(conn)
    for unit in wanted:
        reason = line.protects_unit(unit)
        if reason:
            raise ProtectedError(conn.name, f"{action} {unit}", reason)
    return line


def process(conn: Connection, pid: int, action: str = "kill") -> None:
    """Refuse to signal a process this connection runs through, or one in such a unit."""
    line = lifeline.read(conn)
    if pid in line.pids or pid <= 1:
        raise ProtectedError(conn.name, f"{action} pid {pid}", "it carries this connection")
    res = conn.read("cat /proc/%s/cgroup", str(int(pid)))
    units = lifeline.units_of_cgroup(res.stdout.replace("\n", "|")) if res.ok else ()
    for unit in units:
        reason = line.protects_unit(unit)
        if reason:
            raise ProtectedError(
                conn.name,
                f"{action} pid {pid}",
                f"it runs inside a unit that must stay up: {reason}",
            )


def reboot(conn: Connection, accept_disconnect: bool) -> None:
    """A reboot cuts every connection: only an explicit caller may ask for one."""
    if conn.spec.scheme == "local":
        raise ProtectedError(conn.name, "reboot", "it would end the controller itself")
    if conn.spec.scheme == "nsenter":
        # A node rebooted ends the pod running hostkit; a container rebooted ends the
        # process entered, and a new one is not what this connection named.
        raise ProtectedError(
            conn.name,
            "reboot",
            "it ends the process this connection enters, and on a node the pod running "
            "hostkit with it",
        )
    if not accept_disconnect:
        raise ProtectedError(
            conn.name, "reboot", "it cuts this connection; the caller must accept the disconnect"
        )


def firewall_rules(conn: Connection, denied: Iterable[tuple[int, str]]) -> None:
    """Refuse a rule that drops or rejects the connection's own TCP port."""
    denied = list(denied)
    if not denied:
        return
    line = lifeline.read(conn)
    for port, protocol in denied:
        if line.port is not None and port == line.port and protocol == "tcp":
            raise ProtectedError(
                conn.name,
                f"deny {port}/{protocol}",
                f"this connection uses TCP port {port}",
            )


def firewall_after(conn: Connection, ruleset: netfilter.Ruleset, what: str) -> None:
    """Refuse a change after which the ruleset would drop or reject the connection's port."""
    line = lifeline.read(conn)
    if line.port is None:
        return
    family = "ip6" if ":" in (line.client or "") else "ip"
    blocking = ruleset.blocking(netfilter.Packet(line.port, family))
    if blocking:
        raise ProtectedError(
            conn.name,
            what,
            f"afterwards {', '.join(blocking)} would drop or reject new connections to "
            f"TCP port {line.port}, which this connection uses",
        )


def user(conn: Connection, name: str, action: str) -> None:
    """Refuse to change or lock the account an SSH connection logs in with.

    A local connection logs in with nothing: the controller already runs.
    """
    if conn.spec.scheme != "ssh":
        return
    line = lifeline.read(conn)
    if name == line.user:
        raise ProtectedError(
            conn.name, f"{action} {name}", "it is the account this connection logs in with"
        )


def path(conn: Connection, target: str, action: str) -> None:
    """Refuse to write or remove a file that decides whether this connection can log in."""
    normal = posixpath.normpath(target)
    login = any(fnmatch.fnmatch(normal, p) for p in _LOGIN_FILES)
    sudoers = any(fnmatch.fnmatch(normal, p) for p in _SUDO_FILES)
    keys = posixpath.basename(normal) in ("authorized_keys", "authorized_keys2")
    if not (login or sudoers or keys):
        return
    line = lifeline.read(conn)
    if login and line.transport == "ssh":
        raise ProtectedError(conn.name, f"{action} {target}", "it decides who may log in over SSH")
    if sudoers and line.uid != 0:
        raise ProtectedError(
            conn.name, f"{action} {target}", f"it holds the sudo rights {line.user} relies on"
        )
    home = posixpath.normpath(line.home) if line.home else None
    if keys and home and line.transport == "ssh" and normal.startswith(home + "/.ssh/"):
        raise ProtectedError(
            conn.name, f"{action} {target}", f"it holds the keys {line.user} logs in with"
        )


def sudo_rights(conn: Connection, name: str, texts: Iterable[str]) -> None:
    """Refuse a sudoers drop-in that could change the sudo rights the connection relies on.

    sudoers' last matching rule wins and Defaults apply to everyone, so a drop-in that
    names the connecting user, one of its groups, ALL users, an alias or any Defaults
    can take rights away, whatever else it grants. A connection as root relies on none.
    """
    line = lifeline.read(conn)
    if line.uid == 0:
        return
    subjects = {line.user, "ALL", *(f"%{g}" for g in line.groups)}
    for text in texts:
        for raw in text.splitlines():
            stripped = raw.strip()
            if not stripped or (stripped.startswith("#") and not stripped.startswith("#include")):
                continue
            head = stripped.split(None, 1)[0]
            who = {w.strip() for w in head.split(",")}
            if head.startswith(("Defaults", "#include", "@include")) or head.endswith("_Alias"):
                why = f"its {head.split('@')[0].split(':')[0]} line applies to {line.user} too"
            elif who & subjects:
                why = f"it sets rules for {', '.join(sorted(who & subjects))}"
            else:
                continue
            raise ProtectedError(
                conn.name,
                f"install sudoers drop-in {name}",
                f"{why}, and this connection relies on {line.user}'s sudo rights",
            )
