"""What the benchmark's Kubernetes-node suite asks of every host; both suites read it."""

SYSCTLS = (
    ("net.ipv4.ip_forward", 1),
    ("net.bridge.bridge-nf-call-iptables", 1),
    ("net.bridge.bridge-nf-call-ip6tables", 1),
    ("vm.overcommit_memory", 1),
    ("kernel.panic", 10),
    ("kernel.panic_on_oops", 1),
)
MODULES = ("br_netfilter", "overlay", "ip_vs", "ip_vs_rr", "nf_conntrack")
EXECUTABLES = ("ip", "iptables", "mount", "nsenter", "ethtool", "socat", "tc", "touch")
FREE_PORTS = (6443, 10250, 10257, 10259, 2379, 2380)
LISTENING_PORT = 22
OWNED_FILE = ("/etc/passwd", "root", "root", 0o644)
PACKAGE = "openssh-server"
