"""Ports, firewall and the host's name (kubeadm preflight)."""

from kit.check import check
from kit.runner import validate
from remediations import network as fixes


@check(
    "k8s.port.free",
    "Port Kubernetes needs is not in use",
    refs={"kubeadm": "Port-<port>"},
    fix=fixes.free_port,
    params="ports_free",
    argnames="port",
    tags=("network",),
)
def test_port_free(facts, port):
    holders = [s for s in facts.listening if s.proto == "tcp" and s.port == int(port)]
    assert not holders, f"port {port} is in use: " + ", ".join(
        f"{s.address}:{s.port}" for s in holders
    )


@check(
    "k8s.firewalld.inactive",
    "firewalld is not active (its rules get in the way of kube-proxy)",
    severity="warning",
    refs={"kubeadm": "Firewalld"},
    fix=fixes.disable_firewalld,
    tags=("network",),
)
def test_firewalld_inactive(facts):
    assert facts.firewall != "firewalld", "firewalld is active"


@check(
    "k8s.hostname.valid",
    "Host name is a lowercase RFC 1123 name that resolves",
    refs={"kubeadm": "Hostname"},
    fix=fixes.resolve_hostname,
    tags=("network",),
)
def test_hostname(facts):
    name = facts.hostname
    valid = validate.matches("hostname", name)
    assert valid, f"host name {name!r} is not a lowercase RFC 1123 name"
    assert facts.hostname_addresses, f"host name {name} does not resolve"
