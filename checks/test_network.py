"""Ports, firewall and the host's name (kubeadm preflight, the installers' rules)."""

import re

from hostkit_catalog.remediations import network as fixes
from hostkit_catalog.remediations.network import Holder, port_holders, qualified_name_errors
from kit.catalog.check import check

_UNIT = fixes._UNIT
_USERS = re.compile(r'\("((?:[^"\\]|\\.)*)",pid=(\d+)')


def gathered_holders(ports, port: int) -> list[Holder]:
    """remediations.network.port_holders over the facts gather's `ss -Hltnp` of every
    listener: the lines whose local port is port, as `ss sport = :PORT` keeps them."""
    found: dict[str, str] = {}
    for line in ports.listeners.splitlines():
        words = line.split()
        if len(words) < 4 or words[3].rpartition(":")[2] != str(port):
            continue
        for name, pid in _USERS.findall(line):
            found.setdefault(pid, name)
    holders = []
    for pid, name in sorted(found.items()):
        unit = _UNIT.search(ports.cgroups.get(pid, ""))
        holders.append(Holder(pid, name, unit.group(1) if unit else None))
    return holders


@check(
    "k8s.port.free",
    "Port Kubernetes needs is not in use yet (before kubeadm init/join)",
    refs={"kubeadm": "checks.go PortOpenCheck.Check (Port-<port>)"},
    fix=fixes.free_port,
    params="ports_free",
    argnames="port,owner",
    tags=("network",),
)
def test_port_free(facts, port, owner):
    # owner is who will hold the port once the node is set up; the fix never stops it.
    holders = [s for s in facts.listening if s.proto == "tcp" and s.port == int(port)]
    assert not holders, f"port {port} is in use: " + ", ".join(
        f"{s.address}:{s.port}" for s in holders
    )


@check(
    "k8s.port.owner",
    "Port of a joined node is held by its expected owner (a unit or a static pod's process)",
    refs={"kubernetes": "docs/reference/networking/ports-and-protocols.md (node ports)"},
    params="ports_owned",
    argnames="port,owner",
    tags=("network",),
)
def test_port_owner(conn, facts, port, owner):
    listening = [s for s in facts.listening if s.proto == "tcp" and s.port == int(port)]
    assert listening, f"nothing listens on port {port}; expected {owner}"
    gathered = getattr(facts, "ports", None)
    if gathered is not None:
        holders = gathered_holders(gathered, int(port))
    else:
        holders = port_holders(conn, int(port))
    assert holders, f"port {port} is open but its process cannot be read"
    others = [h for h in holders if not h.is_owner(str(owner))]
    assert not others, f"port {port} is held by {', '.join(map(str, others))}, not {owner}"


@check(
    "k8s.file.absent",
    "File kubeadm writes is absent (the node was not set up before)",
    refs={"kubeadm": "checks.go FileAvailableCheck.Check (FileAvailable-<path>)"},
    params="files_absent",
    argnames="path",
    reads_file="path",
    tags=("system",),
)
def test_file_absent(facts, path):
    stat = facts.files[path]
    assert stat is None, f"{path} already exists ({stat.kind}): run kubeadm reset or remove it"


@check(
    "k8s.dir.empty",
    "Directory kubeadm fills is absent or empty (the node was not set up before)",
    refs={"kubeadm": "checks.go DirAvailableCheck.Check (DirAvailable-<path>)"},
    params="dirs_empty",
    argnames="path",
    reads_file="path",
    tags=("system",),
)
def test_dir_empty(conn, facts, path):
    stat = facts.files[path]
    if stat is None:
        return
    assert stat.kind == "directory", f"{path} is a {stat.kind}, not a directory"
    entries = conn.read("ls -A -- %s", path, sudo=True).check().stdout.split()
    assert not entries, (
        f"{path} is not empty ({', '.join(entries[:3])}{', ...' if len(entries) > 3 else ''}): "
        "run kubeadm reset or empty it"
    )


@check(
    "k8s.firewalld.inactive",
    "firewalld is neither running nor enabled (its rules get in the way of kube-proxy)",
    severity="warning",
    refs={"kubeadm": "checks.go FirewalldCheck.Check"},
    fix=fixes.disable_firewalld,
    tags=("network",),
)
def test_firewalld_inactive(facts):
    assert facts.firewall != "firewalld", "firewalld is active"
    # kubeadm looks at the running service only; an enabled one starts again at boot.
    state = facts.unit_states.get("firewalld.service")
    assert state not in ENABLED, f"firewalld is stopped but {state}: it starts again at boot"


# `systemctl is-enabled` answers that start the unit at boot.
ENABLED = ("enabled", "enabled-runtime", "alias")

# kubespray preinstall 0040-verify-settings.yml, "Stop if bad hostname".
_KUBESPRAY = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


def node_name(facts) -> str:
    """kubeadm's default node name: the host name, trimmed and lowercased
    (nodeutil.GetHostname)."""
    return facts.hostname.strip().lower()


@check(
    "k8s.hostname.valid",
    "Node name (the host name, lowercased) is a qualified name that resolves",
    severity="warning",
    refs={"kubeadm": "checks.go HostnameCheck.Check (IsQualifiedName, net.LookupHost)"},
    fix=fixes.resolve_hostname,
    tags=("network",),
)
def test_hostname(facts):
    name = node_name(facts)
    errors = qualified_name_errors(name)
    assert not errors, f"invalid node name format {name!r}: {'; '.join(errors)}"
    assert facts.hostname_addresses, f"host name {facts.hostname} does not resolve"


@check(
    "k8s.hostname.installers",
    "Host name is a lowercase RFC 1123 name, as the installers require",
    refs={"kubespray": "roles/kubernetes/preinstall/tasks/0040-verify-settings.yml bad hostname"},
    tags=("network",),
)
def test_hostname_installers(facts):
    name = facts.hostname
    assert _KUBESPRAY.match(name), (
        f"host name {name!r} must consist of lowercase alphanumeric characters, '.' or '-', "
        "and start and end with an alphanumeric character (rename the host by hand)"
    )
