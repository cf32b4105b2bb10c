"""The running kernel's build configuration, read where kubeadm's kernel validator looks."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from kit.connection import Connection
from kit.errors import KitValueError

if TYPE_CHECKING:
    from kit.facts import Facts


# -- kernel build configuration --------------------------------------------------------


def kernel_config_paths(release: str) -> tuple[str, ...]:
    """Where kubeadm's kernel validator looks for the running kernel's config, in its order
    (system-validators kernel_validator.go getKernelConfigReader)."""
    return (
        "/proc/config.gz",
        f"/boot/config-{release}",
        f"/usr/src/linux-{release}/.config",
        "/usr/src/linux/.config",
        f"/usr/lib/modules/{release}/config",
        f"/usr/lib/ostree-boot/config-{release}",
        f"/usr/lib/kernel/config-{release}",
        f"/usr/src/linux-headers-{release}/.config",
        f"/lib/modules/{release}/build/.config",
    )


_KCONFIG = re.compile(r"^(CONFIG_[A-Z0-9_]+)=([myn])")


def parse_kernel_config(text: str) -> dict[str, str]:
    """{CONFIG_NAME: "y"|"m"|"n"} as the validator reads a config: `^CONFIG_[A-Z0-9_]+=[myn]`
    lines only, so `# CONFIG_X is not set` and string or number options are absent."""
    found = {}
    for line in text.splitlines():
        match = _KCONFIG.match(line.strip())
        if match:
            found[match.group(1)] = match.group(2)
    return found


# $1: the option names' pattern; the rest: the paths in order. The first path that exists
# is the config, whatever it holds, as the validator takes it.
_READ_KCONFIG = r"""pattern=$1; shift
for p in "$@"; do
  if [ -e "$p" ]; then
    printf '%s\n' "$p"
    case $p in *.gz) gzip -dc -- "$p" ;; *) cat -- "$p" ;; esac | grep -E "$pattern"
    exit 0
  fi
done
exit 0"""


def read_kernel_config(
    conn: Connection, release: str, names: Iterable[str]
) -> tuple[str | None, dict[str, str]]:
    """(the config file read, its values of the named options) for the running kernel;
    (None, {}) when no config exists where the validator looks.

    Only the named options cross the connection: a distribution's config is some 250 kB.
    """
    wanted = [n.removeprefix("CONFIG_") for n in names]
    for name in wanted:
        if not re.fullmatch(r"[A-Z0-9_]+", name):
            raise KitValueError(f"invalid kernel config option: {name!r}")
    if not re.fullmatch(r"[A-Za-z0-9._+~][A-Za-z0-9._+~-]*", release):
        raise KitValueError(f"invalid kernel release: {release!r}")
    pattern = "^[[:space:]]*CONFIG_(" + "|".join(wanted) + ")="
    paths = kernel_config_paths(release)
    out = conn.read("sh -c %s sh" + " %s" * (1 + len(paths)), _READ_KCONFIG, pattern, *paths)
    first, _, rest = out.check().stdout.partition("\n")
    if not first:
        return None, {}
    return first, parse_kernel_config(rest)


# The options the facts gather reads from the kernel config (gather.sh's kernelprep
# block): others cost a read of their own.
GATHERED_KCONFIG = re.compile(
    r"NAMESPACES|[A-Z]+_NS|CGROUPS|CGROUP_[A-Z0-9_]+|CPUSETS|MEMCG|INET|EXT4_FS|PROC_FS"
    r"|NETFILTER_XT_[A-Z0-9_]+|IP_NF_[A-Z0-9_]+|FAIR_GROUP_SCHED|OVERLAY_FS|OVERLAYFS_FS"
    r"|AUFS_FS|BLK_DEV_DM|CFS_BANDWIDTH|SECCOMP|SECCOMP_FILTER"
)


def kernel_config_of(
    conn: Connection, facts: Facts, names: Sequence[str]
) -> tuple[str | None, dict[str, str]]:
    """read_kernel_config's answer, from the facts when they gathered every name."""
    prep = facts.kernelprep
    wanted = [n.removeprefix("CONFIG_") for n in names]
    if prep is not None and all(GATHERED_KCONFIG.fullmatch(n) for n in wanted):
        return prep.config_path, parse_kernel_config(prep.config)
    return read_kernel_config(conn, facts.kernel, wanted)
