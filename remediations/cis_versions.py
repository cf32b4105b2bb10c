"""Which CIS Kubernetes benchmark a node is judged by, as kube-bench chooses it.

kube-bench maps the node's Kubernetes version to a benchmark (cfg/config.yaml
`version_mapping`), and for a version it does not list it tries the next lower minor
until one is listed (cmd/common.go mapToBenchmarkVersion, cmd/util.go decrementVersion).
The mapping below is kube-bench's at commit a73ce378 (2026-06-09).

The node checks follow cfg/cis-1.12/node.yaml; the earlier benchmarks of the mapping
differ from it in a few test items only (compared item by item): 4.1.7's CA file mode
(600 before cis-1.11, 644 since), 4.2.12's strong ciphers (cis-1.7 to cis-1.11 also
allow TLS_RSA_WITH_AES_128_GCM_SHA256 and TLS_RSA_WITH_AES_256_GCM_SHA384), 4.2.14
(seccompDefault, from cis-1.11) and 4.3.1 (kube-proxy metrics, from cis-1.9). Those
differences are applied per node. cis-1.11's 4.2.15 (IPAddressDeny) is not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

DEFAULT = "cis-1.12"
VERSION_MAPPING = {
    "1.15": "cis-1.5",
    "1.16": "cis-1.6",
    "1.17": "cis-1.6",
    "1.18": "cis-1.6",
    "1.19": "cis-1.20",
    "1.20": "cis-1.20",
    "1.21": "cis-1.20",
    "1.22": "cis-1.23",
    "1.23": "cis-1.23",
    "1.24": "cis-1.24",
    "1.25": "cis-1.7",
    "1.26": "cis-1.8",
    "1.27": "cis-1.9",
    "1.28": "cis-1.10",
    "1.29": "cis-1.11",
    "1.30": "cis-1.11",
    "1.31": "cis-1.11",
    "1.32": "cis-1.12",
    "1.33": "cis-1.12",
    "1.34": "cis-1.12",
}
# The benchmarks whose node items this catalog follows, oldest first.
FOLLOWED = ("cis-1.7", "cis-1.8", "cis-1.9", "cis-1.10", "cis-1.11", "cis-1.12")
# Items that are not in every followed benchmark: the first that has them.
FIRST_IN = {"4.2.14": "cis-1.11", "4.3.1": "cis-1.9"}


def benchmark_for(kube_version: str) -> str | None:
    """kube-bench's benchmark for a Kubernetes version ("1.34" or "1.34.2"), or None."""
    found = re.match(r"v?(\d+)\.(\d+)", kube_version.strip())
    if not found:
        return None
    major, minor = int(found[1]), int(found[2])
    while minor > 1:  # decrementVersion gives up below minor 2
        name = VERSION_MAPPING.get(f"{major}.{minor}")
        if name is not None:
            return name
        minor -= 1
    return None


@dataclass(frozen=True)
class Choice:
    """The benchmark a node is judged by and why."""

    name: str
    kube_version: str | None  # None: the node's version is unknown

    @property
    def followed(self) -> str:
        """The benchmark whose rules apply: this one, or the oldest followed for older."""
        return self.name if self.name in FOLLOWED else FOLLOWED[0]

    def has(self, item: str) -> bool:
        first = FIRST_IN.get(item)
        return first is None or FOLLOWED.index(self.followed) >= FOLLOWED.index(first)

    def at_least(self, name: str) -> bool:
        return FOLLOWED.index(self.followed) >= FOLLOWED.index(name)

    def describe(self) -> str:
        if self.kube_version is None:
            return f"{self.name} (the node's Kubernetes version is unknown)"
        why = f"{self.name}: kube-bench's benchmark for Kubernetes {self.kube_version}"
        if self.name != self.followed:
            why += f"; judged by {self.followed}, the oldest this catalog follows"
        return why


def choose(kube_version: str | None) -> Choice:
    if kube_version is None:
        return Choice(DEFAULT, None)
    name = benchmark_for(kube_version)
    return Choice(name or DEFAULT, kube_version if name else None)


def node_version(output: str) -> str | None:
    """major.minor.patch from `kubelet --version` output, or None."""
    # The parse of the k8s.kubelet.version check, so both read the version alike.
    from hostkit_catalog.checks.test_runtime import kubelet_version

    found = kubelet_version(output)
    return ".".join(map(str, found)) if found else None


def choose_for(facts: Any) -> Choice:
    """The benchmark for the node the facts describe, by the kubelet the gather asked
    (`kubelet --version`); kube-bench asks kubectl, else the kubelet, likewise."""
    runtime = getattr(facts, "runtime", None)
    answer = getattr(runtime, "kubelet_version", None)
    if answer is None or answer[0] != 0:
        return choose(None)
    return choose(node_version(answer[1]))
