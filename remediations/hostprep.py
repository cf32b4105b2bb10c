"""ufw, SELinux and NetworkManager as the installers leave them on a node."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from kit.catalog.remediation import Target, remediation
from kit.connection import Connection
from kit.edits import decode, encode, keyvalue, nmconf
from kit.errors import FixRefused, KitValueError
from kit.facts.parse import parse_boot_files
from kit.runner import files, firewall, journal
from kit.runner.change import Change, combine

UFW_CONF = "/etc/ufw/ufw.conf"
SELINUX_CONFIG = "/etc/selinux/config"
NM_CONF_D = "/etc/NetworkManager/conf.d"

# Prints each readable file among the shell words as "@@file:PATH" and its text.
_DUMP = (
    'for f in {files}; do [ -f "$f" ] && [ -r "$f" ] && '
    '{{ printf \'@@file:%s\\n\' "$f"; cat "$f"; echo; }}; done'
)


def dump_files(words: str) -> str:
    """A shell loop printing the files that shell words (globs, fixed by the caller) name."""
    return _DUMP.format(files=words)


def heads(text: str) -> dict[str, str]:
    """The `@@name:value` lines before the first file, name -> value."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("@@file:"):
            break
        if line.startswith("@@") and ":" in line:
            name, _, value = line[2:].partition(":")
            found[name] = value
    return found


NM_FILES = " ".join([nmconf.MAIN] + [f"{d}/*.conf" for d in nmconf.CONF_DIRS])
NM_READ = (
    "PATH=$PATH:/usr/sbin:/sbin; command -v NetworkManager >/dev/null 2>&1 && "
    "echo @@installed:yes; echo @@active:$(systemctl is-active NetworkManager 2>/dev/null); "
    + dump_files(NM_FILES)
)


@dataclass(frozen=True)
class NmState:
    installed: bool
    active: bool
    files: Mapping[str, str] = field(default_factory=dict)


def parse_nm(text: str) -> NmState:
    found = heads(text)
    return NmState(
        found.get("installed") == "yes",
        found.get("active") == "active",
        dict(parse_boot_files(text)),
    )


def read_nm(conn: Connection) -> NmState:
    return parse_nm(conn.read(NM_READ).stdout)


@remediation(
    reboot=False,
    persists=True,
    strategy="disable",
    disruption="high",
    never="other firewalls' rules",
)
def disable_ufw(target: Target) -> Change:
    """`ufw disable`: its rules go and it stays off at boot (ENABLED=no).

    High disruption, as for firewalld: every port ufw kept closed opens to the network.
    Refused, through the firewall runner's guard, when the rules left once ufw is off
    would drop this connection's port. A ufw that is off now but ENABLED=yes only has
    the setting changed: nothing is loaded that could close or open anything.
    """
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    status = conn.read("ufw status", sudo=True).check().stdout
    if "Status: active" in status:
        # The facts may name another firewall first (firewalld); this acts on ufw.
        return firewall.disable_firewall(
            conn, dataclasses.replace(facts, firewall="ufw"), dry_run=dry_run
        )
    path, old, _attrs = files.read_through(conn, UFW_CONF, sudo=True)
    text = decode(old or b"")
    value = keyvalue.unquote(keyvalue.parse(text).get("ENABLED", "")).lower()
    if old is None or value != "yes":
        return Change.none("ufw already inactive and off at boot", dry_run=dry_run)
    new = keyvalue.set_value(text, "ENABLED", "no")
    return files.write_file(conn, path, encode(new), sudo=True, dry_run=dry_run)


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="medium",
    never="the SELinux policy",
)
def selinux_permissive(target: Target) -> Change:
    """`setenforce 0` now and SELINUX=permissive in /etc/selinux/config, as kubespray sets.

    Medium disruption: nothing stops, but denials are logged instead of enforced, which
    loosens the host's confinement. A config already permissive or disabled is kept.
    """
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    steps = []
    if facts.selinux == "enforcing":
        with journal.live_step(conn, "setenforce 0", dry_run=dry_run):
            if not dry_run:
                conn.run("setenforce 0", sudo=True).check()
        steps.append(Change.made("SELinux permissive now (setenforce 0)", dry_run=dry_run))
    else:
        steps.append(Change.none(f"SELinux already {facts.selinux} now", dry_run=dry_run))
    path, old, _attrs = files.read_through(conn, SELINUX_CONFIG, sudo=True)
    if old is None:
        steps.append(Change.none(f"no {SELINUX_CONFIG}: nothing enforces at boot", dry_run=dry_run))
    else:
        text = decode(old)
        mode = keyvalue.unquote(keyvalue.parse(text).get("SELINUX", "")).strip().lower()
        if mode in ("permissive", "disabled"):
            steps.append(Change.none(f"{SELINUX_CONFIG} already {mode}", dry_run=dry_run))
        else:
            new = keyvalue.set_value(text, "SELINUX", "permissive")
            steps.append(files.write_file(conn, path, encode(new), sudo=True, dry_run=dry_run))
    return combine("SELinux permissive", steps, dry_run=dry_run)


_DROP_IN_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="low",
    never="other conf.d files; a pattern that names the interface of the default route",
)
def networkmanager_unmanaged(target: Target, name: str, specs: str) -> Change:
    """Write /etc/NetworkManager/conf.d/<name>.conf adding specs to unmanaged-devices, as
    kubespray writes calico.conf and k8s.conf, then reload NetworkManager (as its handler).

    Low disruption: a reload keeps every connection up, and the patterns name interfaces
    the CNI and kube-proxy create. A pattern that matches the interface the default
    route leaves by is refused, since NetworkManager would stop managing the link the
    node (and likely this connection) uses. Refused too when a later conf.d file sets
    unmanaged-devices= and would hide the drop-in.
    """
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    if not _DROP_IN_NAME.fullmatch(name):
        raise KitValueError(f"invalid NetworkManager drop-in name {name!r}")
    wanted = nmconf.split_list(specs)
    for iface in facts.interfaces:
        default = {facts.ipv4_default, facts.ipv6_default} - {None}
        if default & {*iface.ipv4, *iface.ipv6} and nmconf.interface_matches(wanted, iface.name):
            raise FixRefused(
                f"unmanaged-devices {specs} would match {iface.name}, which carries the "
                "default route: NetworkManager would stop managing it; narrow the pattern"
            )
    state = read_nm(conn)
    if not state.installed:
        return Change.none("NetworkManager is not installed", dry_run=dry_run)
    path = f"{NM_CONF_D}/{name}.conf"
    content = nmconf.drop_in(wanted)
    after = {**state.files, path: content}
    merged = nmconf.merged_list(after, "keyfile", "unmanaged-devices")
    lost = [s for s in wanted if not nmconf.spec_covers(merged, s)]
    if lost:
        raise FixRefused(
            f"a conf.d file read after {path} resets unmanaged-devices: "
            f"{', '.join(lost)} would stay managed; edit it by hand"
        )
    steps = [files.mkdirp(conn, NM_CONF_D, sudo=True, dry_run=dry_run)]
    written = files.write_file(conn, path, content, mode="0644", sudo=True, dry_run=dry_run)
    steps.append(written)
    if written.changed and state.active:
        with journal.live_step(conn, "reload NetworkManager", dry_run=dry_run):
            if not dry_run:
                conn.run("systemctl reload NetworkManager", sudo=True).check()
        steps.append(Change.made("NetworkManager reloaded", dry_run=dry_run))
    return combine(f"NetworkManager leaves {name} interfaces unmanaged", steps, dry_run=dry_run)
