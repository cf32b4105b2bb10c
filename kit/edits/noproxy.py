"""Which destinations a proxy environment sends direct, by Go's rules.

containerd, kubelet and kubeadm are Go programs: their HTTP clients take the proxy
from the environment through golang.org/x/net/http/httpproxy (FromEnvironment,
config.init, config.useProxy), and kubeadm's HTTPProxyCheck and HTTPProxyCIDRCheck
ask that same function. This module follows it, so a verdict here is the one those
programs reach. Also the readers of the files such environments come from:
/etc/environment, shell profiles and systemd's Environment= assignments.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from kit.edits import keyvalue, lines

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def get_env_any(env: Mapping[str, str], *names: str) -> str:
    """httpproxy's getEnvAny: the first name set to a non-empty value."""
    return next((env[n] for n in names if env.get(n)), "")


@dataclass(frozen=True)
class ProxyEnv:
    """The three settings FromEnvironment reads, upper case before lower case."""

    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = ""

    @classmethod
    def of(cls, env: Mapping[str, str]) -> ProxyEnv:
        return cls(
            get_env_any(env, "HTTP_PROXY", "http_proxy"),
            get_env_any(env, "HTTPS_PROXY", "https_proxy"),
            get_env_any(env, "NO_PROXY", "no_proxy"),
        )

    @property
    def proxied(self) -> bool:
        return bool(self.http_proxy or self.https_proxy)


def _split_host_port(text: str) -> tuple[str, str] | None:
    """net.SplitHostPort: None where Go returns an error."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 : end + 2] != ":" or "[" in text[1:end]:
            return None
        return text[1:end], text[end + 2 :]
    host, sep, port = text.rpartition(":")
    if not sep or ":" in host or "]" in host:
        return None
    return host, port


def _ip(text: str) -> Address | None:
    """net.ParseIP: a bare address (no zone, no brackets)."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _cidr(text: str) -> Network | None:
    """net.ParseCIDR accepts host bits set, and masks them."""
    if "/" not in text:
        return None
    address, _, bits = text.partition("/")
    if not bits.isdigit() or _ip(address) is None:
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


@dataclass(frozen=True)
class NoProxy:
    """A parsed NO_PROXY value, as httpproxy's config.init builds its matchers."""

    match_all: bool = False
    cidrs: tuple[Network, ...] = ()
    ips: tuple[tuple[Address, str], ...] = ()
    # (suffix with its leading dot, port, whether the bare name matches too)
    domains: tuple[tuple[str, str, bool], ...] = field(default=())

    @classmethod
    def parse(cls, value: str) -> NoProxy:
        cidrs: list[Network] = []
        ips: list[tuple[Address, str]] = []
        domains: list[tuple[str, str, bool]] = []
        for raw in value.split(","):
            p = raw.strip().lower()
            if not p:
                continue
            if p == "*":
                return cls(match_all=True)
            net = _cidr(p)
            if net is not None:
                cidrs.append(net)
                continue
            split = _split_host_port(p)
            if split is not None:
                host, port = split
                if not host:
                    continue
            else:
                host, port = p, ""
            ip = _ip(host)
            if ip is not None:
                ips.append((ip, port))
                continue
            if host.startswith("*."):
                host = host[1:]
            match_host = not host.startswith(".")
            domains.append(("." + host if match_host else host, port, match_host))
        return cls(False, tuple(cidrs), tuple(ips), tuple(domains))

    def direct(self, host: str, port: str, *, implicit_loopback: bool = True) -> bool:
        """Whether a request to host:port goes direct (not useProxy).

        implicit_loopback=False drops Go's own rule that localhost and loopback
        addresses always go direct: other clients (curl, apt) read NO_PROXY only.
        """
        host = host.strip().lower()
        ip = _ip(host)
        if implicit_loopback and (host == "localhost" or (ip is not None and ip.is_loopback)):
            return True
        if self.match_all:
            return True
        if ip is not None:
            if any(ip in net for net in self.cidrs):
                return True
            if any(ip == want and p in ("", port) for want, p in self.ips):
                return True
        return any(
            (host.endswith(suffix) or (bare and host == suffix[1:])) and p in ("", port)
            for suffix, p, bare in self.domains
        )

    def direct_network(self, network: Network, *, implicit_loopback: bool = True) -> bool:
        """Whether every address of network goes direct, on any port.

        kubeadm's HTTPProxyCIDRCheck asks for one address of the range (its first
        host); pods and services take any of them, so the whole range must go direct.
        """
        if self.match_all:
            return True
        loopback = ipaddress.ip_network("127.0.0.0/8" if network.version == 4 else "::1/128")
        if implicit_loopback and network.subnet_of(loopback):  # type: ignore[arg-type]
            return True
        same = [n for n in self.cidrs if n.version == network.version]
        same += [
            ipaddress.ip_network(ip)
            for ip, port in self.ips
            if not port and ip.version == network.version
        ]
        return any(network.subnet_of(n) for n in ipaddress.collapse_addresses(same))  # type: ignore[arg-type]

    def covers(self, target: str, *, implicit_loopback: bool = True) -> bool:
        """Whether target (an address, a CIDR, a name, each with an optional :port) goes
        direct; without a port, on every port."""
        net = _cidr(target)
        if net is not None:
            return self.direct_network(net, implicit_loopback=implicit_loopback)
        split = _split_host_port(target)
        host, port = split if split is not None else (target, "")
        # No port: a port-bound entry does not cover it; "0" stands for a port no
        # entry names.
        return self.direct(host, port or "0", implicit_loopback=implicit_loopback)


# -- where an environment comes from ------------------------------------------------

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_environment_file(text: str) -> dict[str, str]:
    """/etc/environment as pam_env reads it: NAME=value lines, one pair of quotes off."""
    found: dict[str, str] = {}
    for line in lines(text):
        kv = keyvalue.parse_line(line)
        if kv is None:
            continue
        name = kv[0].removeprefix("export ").strip()
        if _NAME.fullmatch(name):
            found[name] = keyvalue.unquote(kv[1])
    return found


_SHELL_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def parse_shell_exports(text: str) -> dict[str, str]:
    """Plain `[export] NAME=value` lines of a profile script; other shell is not run."""
    found: dict[str, str] = {}
    for line in lines(text):
        m = _SHELL_ASSIGN.match(line.rstrip("\n"))
        if not m:
            continue
        try:
            words = shlex.split(m.group(2), comments=True)
        except ValueError:
            continue
        found[m.group(1)] = words[0] if words else ""
    return found


def parse_systemd_environment(assignments: Iterable[str]) -> dict[str, str]:
    """The values of a unit's Environment= lines, in order: a later one wins, an empty
    one resets the list (systemd.exec(5))."""
    found: dict[str, str] = {}
    for value in assignments:
        if not value.strip():
            found.clear()
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            continue
        for word in words:
            name, sep, val = word.partition("=")
            if sep and _NAME.fullmatch(name):
                found[name] = val
    return found
