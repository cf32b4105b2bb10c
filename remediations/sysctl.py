"""Sysctls a profile groups apart: lists of port ranges, the tunables the kubelet's
protectKernelDefaults insists on, and kubeadm's bridge-nf-call before 1.30.

Every one is written live and in the managed drop-in /etc/sysctl.d/99-zz-hostkit.conf
(kit.runner.kernel.sysctl): no other file is edited.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from kit.catalog.remediation import Target, remediation
from kit.runner import kernel
from kit.runner.change import Change, combine

F = TypeVar("F", bound=Callable[..., Any])

# Why a drop-in and not an edit of /etc/sysctl.conf, for every sysctl fix's explain.
DROP_IN_CHOICE = (
    "Written to the drop-in /etc/sysctl.d/99-zz-hostkit.conf, never into /etc/sysctl.conf, "
    "which procps and the installers own (Debian 13 has none): systemd-sysctl applies the "
    "*.conf files of /etc, /run and /usr/lib sysctl.d by file name (sysctl.d(5)), and the "
    "drop-in's name sorts after 99-sysctl.conf, the link to /etc/sysctl.conf on Debian 11 "
    "and 12 and kubespray's file, so its value wins at boot on Debian 11, 12 and 13. A "
    "value that an earlier file sets otherwise is named in the fix's summary; a file that "
    "sorts after the drop-in and sets another value is refused, naming it."
)


def explains_drop_in(fn: F) -> F:
    """Add DROP_IN_CHOICE to a sysctl fix's docstring, which `explain` prints."""
    wrapped = textwrap.fill(DROP_IN_CHOICE, 88, initial_indent="    ", subsequent_indent="    ")
    fn.__doc__ = f"{(fn.__doc__ or '').rstrip()}\n\n{wrapped}\n"
    return fn


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="low",
    never=(
        "other keys; a value already at or above a floor; ports already reserved (a range "
        "is added to them, never put in their place); every file but the drop-in"
    ),
)
@explains_drop_in
def set_sysctl_including(target: Target, key: str, value: str) -> Change:
    """Set the kernel parameter now and in the drop-in for every boot; for "includes R",
    the live list of ranges with R added."""
    return kernel.set_sysctl_including(
        target.conn, target.facts, key, value, dry_run=target.dry_run
    )


# What the kubelet checks before it starts with protectKernelDefaults: true, and sets
# itself when it does not protect them (pkg/kubelet/cm/container_manager_linux.go,
# setupKernelTunables): exact values.
KERNEL_DEFAULTS: Mapping[str, str] = {
    "vm.overcommit_memory": "1",
    "vm.panic_on_oom": "0",
    "kernel.panic": "10",
    "kernel.panic_on_oops": "1",
    "kernel.keys.root_maxkeys": "1000000",
    "kernel.keys.root_maxbytes": "25000000",
}

_KERNEL_DEFAULTS_NEVER = (
    "sysctls other than the kubelet's six tunables; every file but the drop-in; the kubelet"
)


def kernel_defaults(target: Target, tunables: Mapping[str, str] = KERNEL_DEFAULTS) -> Change:
    """The kernel-defaults change: the tunables live and in the drop-in, as one change.

    The one place this is done: k8s.sysctl.kernel-defaults' fix (one tunable at a time)
    and the kubelet's protectKernelDefaults fix (all of them, before the kubelet restarts)
    both call it, and both declare the disruption of set_kernel_default.
    """
    steps = [
        kernel.set_sysctl(target.conn, target.facts, key, value, dry_run=target.dry_run)
        for key, value in tunables.items()
    ]
    return combine(
        "kernel defaults " + ", ".join(f"{k}={v}" for k, v in tunables.items()),
        steps,
        dry_run=target.dry_run,
    )


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="medium",
    never=_KERNEL_DEFAULTS_NEVER,
)
@explains_drop_in
def set_kernel_default(target: Target, key: str, value: str) -> Change:
    """Set a tunable the kubelet's protectKernelDefaults requires, live and in the drop-in.

    Medium disruption: kernel.panic=10 reboots the host 10 seconds after a panic,
    kernel.panic_on_oops=1 turns every oops into a panic, and vm.overcommit_memory=1
    lets allocations succeed that the kernel would have refused, leaving the OOM killer
    to act; the host behaves differently under faults and memory pressure from then on.
    """
    return kernel_defaults(target, {key: value})


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="low",
    never="other keys; every file but the drop-in",
)
@explains_drop_in
def set_bridge_nf_call(target: Target, version: str) -> Change:
    """Set net.bridge.bridge-nf-call-iptables to 1 now and in the drop-in for every
    boot, as kubeadm before 1.30 wants it (the key exists once br_netfilter is loaded:
    k8s.kernel.module runs first)."""
    return kernel.set_sysctl(
        target.conn,
        target.facts,
        "net.bridge.bridge-nf-call-iptables",
        "1",
        dry_run=target.dry_run,
    )
