"""Host preparation the installers do beyond kubeadm's preflight: the firewall, SELinux,
NetworkManager, proxy settings and the resolver kubelet hands to pods.

Each check reads what the facts gather read for it (`read_*`, which reads the host itself
only where the gather could not, as a login that is not root), then decides over what it
read (`verdict_*`, pure, tested over recorded answers).
"""

import ipaddress
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from hostkit_catalog.remediations import hostprep as fixes
from kit.catalog.check import check
from kit.edits import keyvalue, nmconf, noproxy
from kit.facts.parse import parse_boot_files

_dump = fixes.dump_files
_heads = fixes.heads


def _note(request, text: str) -> None:
    # A pass that needs a word of explanation (nothing to check on this host).
    request.node.user_properties.append(("message", text))


# -- ufw ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UfwState:
    installed: bool
    # `ufw status`: True active, False inactive, None unreadable.
    active: bool | None
    # /etc/ufw/ufw.conf ENABLED=yes: ufw loads its rules at boot.
    at_boot: bool


UFW_READ = "grep -s '^ENABLED=' /etc/ufw/ufw.conf; echo @@status; ufw status 2>&1; echo rc=$?"


def parse_ufw(installed: bool, text: str) -> UfwState:
    conf, _, status = text.partition("@@status")
    enabled = keyvalue.parse(conf).get("ENABLED", "")
    at_boot = keyvalue.unquote(enabled).lower() == "yes"
    active: bool | None = None
    if "Status: active" in status:
        active = True
    elif "Status: inactive" in status:
        active = False
    return UfwState(installed, active, at_boot)


def _gathered(facts, name: str) -> str | None:
    prep = getattr(facts, "hostprep", None)
    return getattr(prep, name) if prep is not None else None


def read_ufw(conn, facts) -> UfwState:
    if not facts.has("ufw"):
        return UfwState(False, False, False)
    text = _gathered(facts, "ufw")
    if text is None:
        text = conn.read(UFW_READ, sudo=True).stdout
    return parse_ufw(True, text)


def verdict_ufw(state: UfwState) -> str:
    """What passes, as a note; a failure raises AssertionError naming what is wrong."""
    if not state.installed:
        return "ufw is not installed"
    assert state.active is not None, "whether ufw is active is unknown (`ufw status` failed)"
    assert not state.active, "ufw is active"
    assert not state.at_boot, (
        "ufw is inactive but ENABLED=yes in /etc/ufw/ufw.conf: it loads at boot"
    )
    return ""


@check(
    "k8s.ufw.inactive",
    "ufw is inactive and off at boot (its rules get in the way of kube-proxy and the CNI)",
    severity="warning",
    refs={
        "kubeadm": "checks.go FirewalldCheck.Check (its firewalld concern, for Ubuntu's ufw)",
        "ufw": "ufw(8) status; /etc/ufw/ufw.conf ENABLED (ufw-init loads rules at boot)",
    },
    fix=fixes.disable_ufw,
    tags=("network",),
)
def test_ufw_inactive(conn, facts, request):
    """kubeadm's FirewalldCheck looks at a running firewalld only; ufw gets the same
    verdict here, and also fails when ENABLED=yes would load its rules at the next boot."""
    note = verdict_ufw(read_ufw(conn, facts))
    if note:
        _note(request, note)


# -- SELinux --------------------------------------------------------------------------

SELINUX_CONFIG = "/etc/selinux/config"


def config_mode(text: str | None) -> str | None:
    """SELINUX= of /etc/selinux/config, lowercased; None when the file or key is absent."""
    if text is None:
        return None
    value = keyvalue.parse(text).get("SELINUX")
    return keyvalue.unquote(value).strip().lower() if value is not None else None


def read_selinux_config(conn, facts=None) -> str | None:
    if getattr(facts, "hostprep", None) is not None:
        return facts.hostprep.selinux_config
    res = conn.read("cat %s", SELINUX_CONFIG)
    return res.stdout if res.ok else None


def verdict_selinux(runtime: str, config: str | None) -> str:
    """runtime: the facts' selinux ("enforcing", "permissive", "disabled", "absent")."""
    mode = config_mode(config)
    if runtime == "absent" and config is None:
        return "SELinux is not present on this host"
    assert runtime != "enforcing", "SELinux enforces now (getenforce: Enforcing)"
    assert mode != "enforcing", f"SELinux is {runtime} now but {SELINUX_CONFIG} enforces at boot"
    if config is not None and mode is None:
        return f"{SELINUX_CONFIG} sets no SELINUX=; SELinux is {runtime}"
    assert mode in (None, "permissive", "disabled"), (
        f"{SELINUX_CONFIG} has SELINUX={mode}, not permissive or disabled"
    )
    return ""


@check(
    "k8s.selinux.permissive",
    "SELinux is permissive or disabled, now and at boot",
    refs={
        "kubespray": "roles/kubernetes/preinstall/tasks/0080-system-configurations.yml "
        "Set selinux policy (preinstall_selinux_state: permissive)",
        "kubernetes.io": "docs/setup/production-environment/tools/kubeadm/install-kubeadm.md "
        "(setenforce 0, SELINUX=permissive)",
    },
    fix=fixes.selinux_permissive,
    tags=("security",),
)
def test_selinux_permissive(conn, facts, request):
    note = verdict_selinux(facts.selinux, read_selinux_config(conn, facts))
    if note:
        _note(request, note)


# -- NetworkManager -------------------------------------------------------------------

NmState = fixes.NmState
parse_nm = fixes.parse_nm


def read_nm(conn, facts=None) -> NmState:
    if getattr(facts, "hostprep", None) is not None:
        return parse_nm(facts.hostprep.nm)
    return fixes.read_nm(conn)


def verdict_nm(state: NmState, name: str, specs: str) -> str:
    if not state.installed:
        return "NetworkManager is not installed"
    merged = nmconf.merged_list(state.files, "keyfile", "unmanaged-devices")
    missing = [s for s in nmconf.split_list(specs) if not nmconf.spec_covers(merged, s)]
    assert not missing, (
        f"NetworkManager manages {name} interfaces: unmanaged-devices lacks " + ", ".join(missing)
    )
    return ""


@check(
    "k8s.networkmanager.cni-unmanaged",
    "NetworkManager leaves the CNI's and kube-proxy's interfaces unmanaged",
    severity="warning",
    refs={
        "kubespray": "roles/kubernetes/preinstall/tasks/0062-networkmanager-unmanaged-devices.yml",
        "NetworkManager": "NetworkManager.conf(5) [keyfile] unmanaged-devices, conf.d order",
    },
    fix=fixes.networkmanager_unmanaged,
    params="networkmanager_unmanaged",
    argnames="name,specs",
    tags=("network",),
)
def test_networkmanager_unmanaged(conn, facts, request, name, specs):
    note = verdict_nm(read_nm(conn, facts), name, specs)
    if note:
        _note(request, note)


# -- proxy ----------------------------------------------------------------------------

# Where a proxy reaches the node's Kubernetes programs: the login environment (what
# kubeadm run from a shell, and curl or apt, see) and the two services' units.
LOGIN_FILES = "/etc/environment /etc/profile /etc/profile.d/*.sh"
PROXY_UNITS = ("containerd.service", "kubelet.service")


def _unit_read(unit: str) -> str:
    # Environment= as systemd merged it from the unit and its drop-ins, then the
    # EnvironmentFile= files, which override it.
    return (
        f"echo @@unit:{unit}; systemctl show -p Environment {unit} 2>/dev/null; "
        f"systemctl show -p EnvironmentFiles --value {unit} 2>/dev/null | "
        'while read -r f _; do f=${f#-}; [ -r "$f" ] && '
        '{ printf \'@@envfile:%s\\n\' "$f"; cat "$f"; echo; }; done'
    )


PROXY_READ = _dump(LOGIN_FILES) + "; " + "; ".join(_unit_read(u) for u in PROXY_UNITS)


@dataclass(frozen=True)
class ProxySource:
    name: str
    env: noproxy.ProxyEnv
    # Go programs send localhost and loopback addresses direct whatever NO_PROXY says.
    go: bool


def parse_proxy(text: str) -> list[ProxySource]:
    files: dict[str, list[str]] = {}
    units: dict[str, list[tuple[str, list[str]]]] = {}
    current: list[str] | None = None
    unit = ""
    for line in text.splitlines():
        if line.startswith("@@file:"):
            current = files.setdefault(line[7:], [])
        elif line.startswith("@@unit:"):
            unit = line[7:]
            current = []
            units.setdefault(unit, []).append(("environment", current))
        elif line.startswith("@@envfile:") and unit:
            current = []
            units[unit].append((line[10:], current))
        elif current is not None:
            current.append(line)
    login: dict[str, str] = {}
    login_from = []
    for path, body in files.items():
        text_ = "\n".join(body)
        parsed = (
            noproxy.parse_environment_file(text_)
            if path == "/etc/environment"
            else noproxy.parse_shell_exports(text_)
        )
        login.update(parsed)
        if parsed:
            login_from.append(path)
    sources = [
        ProxySource(
            "the login environment (" + ", ".join(login_from or ["none"]) + ")",
            noproxy.ProxyEnv.of(login),
            False,
        )
    ]
    for name, parts in units.items():
        env: dict[str, str] = {}
        for what, body in parts:
            if what == "environment":
                values = [ln.partition("=")[2] for ln in body if ln.startswith("Environment=")]
                env.update(noproxy.parse_systemd_environment(values))
            else:
                env.update(noproxy.parse_environment_file("\n".join(body)))
        sources.append(ProxySource(name, noproxy.ProxyEnv.of(env), True))
    return sources


def read_proxy(conn, facts=None) -> list[ProxySource]:
    text = _gathered(facts, "proxy")
    if text is None:
        text = conn.read(PROXY_READ, sudo=True).stdout
    return parse_proxy(text)


NODE = "@node"


def proxy_targets(target: str, facts) -> list[str]:
    """The profile's target, with @node standing for the node's default-route addresses."""
    if target != NODE:
        return [target]
    return [a for a in (facts.ipv4_default, facts.ipv6_default) if a]


def verdict_proxy(sources: list[ProxySource], targets: list[str], target: str) -> str:
    proxied = [s for s in sources if s.env.proxied]
    if not proxied:
        return "no HTTP(S)_PROXY is set"
    assert targets, f"{target}: the node has no default-route address to look for in NO_PROXY"
    problems = []
    for source in proxied:
        no_proxy = noproxy.NoProxy.parse(source.env.no_proxy)
        for t in targets:
            if not no_proxy.covers(t, implicit_loopback=source.go):
                problems.append(f"{source.name} sends {t} through the proxy")
    assert not problems, (
        "; ".join(problems) + " (add it to NO_PROXY: address, CIDR or domain suffix)"
    )
    return ""


@check(
    "k8s.proxy.no-proxy",
    "Where a proxy is set, NO_PROXY keeps node, API and cluster traffic direct",
    severity="warning",
    refs={
        "kubeadm": "checks.go HTTPProxyCheck.Check and HTTPProxyCIDRCheck.Check",
        "go": "golang.org/x/net/http/httpproxy proxy.go config.init, config.useProxy",
        "kubespray": "roles/kubespray-defaults/tasks/no_proxy.yml",
    },
    params="no_proxy_covers",
    argnames="target",
    tags=("network",),
)
def test_no_proxy(conn, facts, request, target):
    """Check only: a fix that edits an operator's proxy settings could cut the node
    off from its registries, so NO_PROXY is left to the operator.

    Differs from kubeadm's HTTPProxyCIDRCheck, which probes one address of a range:
    here the whole range must go direct, as pods and services take any address in it.
    The login environment has no implicit loopback rule (curl and apt read it too)."""
    note = verdict_proxy(read_proxy(conn, facts), proxy_targets(target, facts), target)
    if note:
        _note(request, note)


# -- resolv.conf ----------------------------------------------------------------------

KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
RESOLVED_CONF = "/run/systemd/resolve/resolv.conf"
RESOLV_READ = (
    "echo @@link:$(readlink -f /etc/resolv.conf); "
    "echo @@resolved:$(systemctl is-active systemd-resolved 2>/dev/null); "
    + _dump(f"/etc/resolv.conf {RESOLVED_CONF} {KUBELET_CONFIG}")
)
# glibc's MAXNS: later nameservers are ignored, and kubelet warns about them.
MAXNS = 3


@dataclass(frozen=True)
class ResolvState:
    resolved_active: bool
    files: Mapping[str, str]
    link: str = ""


def parse_resolv(text: str) -> ResolvState:
    heads = _heads(text)
    return ResolvState(
        heads.get("resolved") == "active", dict(parse_boot_files(text)), heads.get("link", "")
    )


def read_resolv(conn, facts=None) -> ResolvState:
    text = _gathered(facts, "resolv")
    if text is None:
        text = conn.read(RESOLV_READ, sudo=True).stdout
    return parse_resolv(text)


def nameservers(text: str) -> list[str]:
    """`nameserver ADDRESS` lines, in order (resolv.conf(5))."""
    found = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            found.append(words[1])
    return found


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def kubelet_resolv_conf(state: ResolvState) -> tuple[str, str]:
    """The file kubelet gives pods, and where that choice comes from.

    kubelet's config.yaml when present; otherwise what kubeadm writes there
    (componentconfigs/kubelet.go mutateResolverConfig): systemd-resolved's full file
    when systemd-resolved is active, else /etc/resolv.conf.
    """
    config = state.files.get(KUBELET_CONFIG)
    if config is not None:
        try:
            data = yaml.safe_load(config) or {}
        except yaml.YAMLError:
            data = {}
        if isinstance(data, dict) and "resolvConf" in data:
            return str(data["resolvConf"] or ""), f"resolvConf in {KUBELET_CONFIG}"
    if state.resolved_active:
        return RESOLVED_CONF, "kubeadm's choice with systemd-resolved active"
    return "/etc/resolv.conf", "kubeadm's choice without systemd-resolved"


def _kubelet_servers(state: ResolvState) -> tuple[str, str, list[str] | None]:
    path, why = kubelet_resolv_conf(state)
    text = state.files.get(path)
    if text is None and posixpath.normpath(path) == "/etc/resolv.conf":
        text = state.files.get(state.link)
    return path, why, nameservers(text) if text is not None else None


def verdict_resolv(state: ResolvState) -> str:
    path, why, servers = _kubelet_servers(state)
    if path == "":
        return f"kubelet reads no resolver file ({why} is empty)"
    assert servers is not None, f"kubelet reads {path} ({why}), which does not exist"
    assert servers, f"{path} ({why}) has no nameserver line"
    stub = " the systemd-resolved stub;" if "127.0.0.53" in servers else ""
    assert not all(_loopback(s) for s in servers), (
        f"kubelet gives pods {path} ({why}), whose only nameservers are loopback "
        f"({', '.join(servers)}):{stub} pods would query themselves; set resolvConf: "
        f"{RESOLVED_CONF} in {KUBELET_CONFIG} where systemd-resolved runs"
    )
    return ""


@check(
    "k8s.resolv.conf",
    "kubelet's resolv.conf names a nameserver that is not loopback",
    refs={
        "kubeadm": "componentconfigs/kubelet.go mutateResolverConfig (systemd-resolved)",
        "kubelet": "pkg/kubelet/network/dns/dns.go Configurer.getHostDNSConfig",
    },
    tags=("network",),
)
def test_resolv_conf(conn, facts, request):
    """Check only: the remedy is kubelet's resolvConf, which kubeadm or the operator
    owns, or the host's resolver, which the kit does not guess."""
    note = verdict_resolv(read_resolv(conn, facts))
    if note:
        _note(request, note)


def verdict_nameserver_count(state: ResolvState) -> str:
    path, _why, servers = _kubelet_servers(state)
    if not servers:
        return f"{path or 'no file'}: no nameservers to count (k8s.resolv.conf)"
    assert len(servers) <= MAXNS, (
        f"{path} lists {len(servers)} nameservers; glibc uses the first {MAXNS} and kubelet "
        f"drops the rest with a warning: {', '.join(servers[MAXNS:])}"
    )
    return ""


@check(
    "k8s.resolv.conf.nameservers",
    "kubelet's resolv.conf names at most three nameservers (glibc MAXNS)",
    severity="warning",
    refs={
        "kubelet": "pkg/kubelet/network/dns/dns.go CheckLimitsForResolvConf "
        "(validation.MaxDNSNameservers)"
    },
    tags=("network",),
)
def test_resolv_conf_nameservers(conn, facts, request):
    note = verdict_nameserver_count(read_resolv(conn, facts))
    if note:
        _note(request, note)
