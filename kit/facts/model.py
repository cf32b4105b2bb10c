"""What a host is, as one immutable value: the shape every check and operation reads."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from kit.connection.quoting import join
from kit.errors import FactUnknown, KitValueError

PackageManagerType = Literal["apt", "dnf", "yum", "unknown"]
InitSystemType = Literal["systemd", "sysvinit", "openrc", "unknown"]

UNKNOWN = "unknown"


def fill(template: str, *names: str) -> str:
    """Put the quoted names where a command template has `{}`.

    A literal replace, not str.format: templates hold shell braces such as
    dpkg-query's `${Status}`.
    """
    return template.replace("{}", join(list(names)))


@dataclass(frozen=True, slots=True)
class OSInfo:
    id: str = UNKNOWN
    version_id: str = UNKNOWN
    family: str = UNKNOWN
    pretty_name: str = UNKNOWN


@dataclass(frozen=True, slots=True)
class PackageManager:
    """Command templates; `{}` stands for the quoted package name(s)."""

    type: PackageManagerType = "unknown"
    update_cmd: str = ""
    install_cmd: str = ""
    remove_cmd: str = ""
    query_cmd: str = ""
    cache_clean_cmd: str = ""
    # An install that changes nothing and prints what it would do, removals included.
    simulate_cmd: str = ""


@dataclass(frozen=True, slots=True)
class InitSystem:
    """Command templates; `{}` stands for the quoted service name.

    An empty daemon_reload_cmd means the init system has nothing to reload.
    """

    type: InitSystemType = "unknown"
    start_cmd: str = ""
    stop_cmd: str = ""
    enable_cmd: str = ""
    disable_cmd: str = ""
    restart_cmd: str = ""
    is_active_cmd: str = ""
    daemon_reload_cmd: str = ""


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    ipv4: tuple[str, ...] = ()
    ipv6: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Socket:
    proto: Literal["tcp", "udp"]
    address: str
    port: int


@dataclass(frozen=True, slots=True)
class TimeSync:
    synchronized: bool | None = None
    service: str | None = None
    # chrony's own answer ("Normal", "Not synchronised"), read where timedatectl is not.
    chrony_leap: str | None = None
    # Whether systemd-timesyncd's /run/systemd/timesync/synchronized exists (None: no
    # systemd): its answer without D-Bus, which timedatectl needs.
    timesyncd_flag: bool | None = None


@dataclass(frozen=True, slots=True)
class Mount:
    device: str
    mountpoint: str
    fstype: str
    options: str


@dataclass(frozen=True, slots=True)
class FileStat:
    mode: int
    owner: str
    group: str
    kind: str  # as stat names it: "regular file", "directory", "symbolic link", ...


@dataclass(frozen=True, slots=True)
class Probes:
    """Files and packages some checks ask about, read in the same round trip as the facts."""

    files: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for path in self.files:
            if not path.startswith("/") or "\n" in path or "\0" in path:
                raise KitValueError(f"invalid path to probe: {path!r}")
        for name in self.packages:
            if not _PACKAGE.match(name):
                raise KitValueError(f"invalid package name to probe: {name!r}")

    def __bool__(self) -> bool:
        return bool(self.files or self.packages)


_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+._:~-]*$")


def _frozen_map(value: Mapping[str, object] | None = None) -> Mapping[str, object]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, slots=True)
class Facts:
    """Everything gathered from one host in one round trip.

    Unknown values are explicit: the string "unknown" or None. Operations that
    need one call `require(name)`, which raises FactUnknown naming it.
    """

    os: OSInfo = field(default_factory=OSInfo)
    hostname: str = UNKNOWN
    kernel: str = UNKNOWN
    memory_mib: int | None = None
    cpu_count: int | None = None
    ipv4_default: str | None = None
    ipv6_default: str | None = None
    package_manager: PackageManager = field(default_factory=PackageManager)
    init_system: InitSystem = field(default_factory=InitSystem)
    selinux: str = "absent"
    apparmor: str = "absent"
    firewall: str = UNKNOWN
    interfaces: tuple[Interface, ...] = ()
    swaps: tuple[str, ...] = ()
    modules: frozenset[str] = frozenset()
    # Modules built into the running kernel (modules.builtin); None: unreadable.
    modules_builtin: frozenset[str] | None = None
    cgroup_version: int | None = None
    listening: tuple[Socket, ...] = ()
    boot_id: str = UNKNOWN
    timezone: str = UNKNOWN
    time_sync: TimeSync = field(default_factory=TimeSync)
    sysctls: Mapping[str, str] = field(default_factory=_frozen_map)  # type: ignore[arg-type]
    mounts: tuple[Mount, ...] = ()
    executables: Mapping[str, str | None] = field(default_factory=_frozen_map)  # type: ignore[arg-type]
    # Addresses the host's own name resolves to (empty: it does not resolve), as kubeadm's
    # HostnameCheck resolves it (Go's resolver, without cgo): where nsswitch.conf's hosts
    # line names files first and /etc/hosts names the host, those of every line naming it,
    # IPv4 and IPv6 in the file's order; otherwise `getent hosts`'s.
    hostname_addresses: tuple[str, ...] = ()
    # What the next boot reads: fstab, modules-load.d and sysctl.d files, path -> text.
    boot_files: Mapping[str, str] = field(default_factory=_frozen_map)  # type: ignore[arg-type]
    # Links among those files, path -> resolved target ("/dev/null" masks the file).
    boot_links: Mapping[str, str] = field(default_factory=_frozen_map)  # type: ignore[arg-type]
    # `systemctl is-enabled` of the units checks ask about (firewalld.service,
    # swap.target, time daemons): "enabled", "disabled", "masked", ...; absent: no such
    # unit or no systemd.
    unit_states: Mapping[str, str] = field(default_factory=_frozen_map)  # type: ignore[arg-type]
    # Swap units linked into a target's .wants/.requires (by hand or by a generator).
    swap_units: tuple[str, ...] = ()
    zram_generator: bool = False
    # Answers to Probes: a probed file's stat (None: absent), a package's version (None:
    # not installed). A path or package nobody probed is not a key.
    files: Mapping[str, FileStat | None] = field(default_factory=_frozen_map)  # type: ignore[arg-type]
    packages: Mapping[str, str | None] = field(default_factory=_frozen_map)  # type: ignore[arg-type]
    # The kernel preparation block's raw answers (None: not gathered, as in hand-made facts).
    kernelprep: KernelPrep | None = None
    # The node checks' reads, as gathered (None: not gathered, as in hand-made facts).
    hostprep: HostPrep | None = None
    runtime: Runtime | None = None
    ports: PortHolders | None = None
    kubelet_files: KubeletFiles | None = None
    # -- kernel modules at boot (issue 23): None where not gathered, as in hand-made facts.
    modules_boot: ModulesBoot | None = None

    def require(self, name: str) -> object:
        """The fact called name (dotted for nested: "os.id"), or FactUnknown if unknown."""
        value: object = self
        for part in name.split("."):
            value = getattr(value, part)
        inner = getattr(value, "type", value)
        if inner is None or inner == UNKNOWN or inner == "":
            raise FactUnknown(name, self.hostname)
        return value

    def interface(self, name: str) -> Interface | None:
        return next((i for i in self.interfaces if i.name == name), None)

    def has(self, executable: str) -> bool:
        return bool(self.executables.get(executable))


@dataclass(frozen=True, slots=True)
class KernelPrep:
    """What the kernel preparation checks read, as gathered; the runner parses the texts.

    config: the first kernel config where kubeadm's validator looks (None: none), and its
    lines for the options the gather asks about. disk: a state directory -> (its nearest
    existing parent, `df -P -k` of it). cgroup: kit.runner.kernel.parse_cgroup_state's
    input. empty_sysctls: keys whose value is empty.
    """

    config_path: str | None = None
    config: str = ""
    disk: Mapping[str, tuple[str, str]] = field(default_factory=_frozen_map)  # type: ignore[arg-type]
    cgroup: str = ""
    empty_sysctls: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ModulesBoot:
    """What the module check reads beyond /proc/modules (the gather's modules-boot section).

    proc_modules_readable: whether /proc/modules could be read (an empty `modules` then
    means none loaded, not unknown). sys_modules: /sys/module's entries (loaded modules,
    and built-in ones that have parameters). kconfig: the running kernel's config lines for
    the options kit.runner.kernel.modules.MODULE_CONFIG names. modprobe_files: the
    modprobe.d files libkmod reads, path -> text.
    """

    proc_modules_readable: bool = False
    sys_modules: frozenset[str] = frozenset()
    kconfig: str = ""
    modprobe_files: Mapping[str, str] = field(default_factory=_frozen_map)  # type: ignore[arg-type]


# -- node checks' reads ------------------------------------------------------------------
# Each field holds what a check's own read printed, for the check's parser. None where
# the gather did not make that read: the check then reads through its connection (with
# sudo where it needs root), so a login that is not root gets the same verdict.


@dataclass(frozen=True, slots=True)
class HostPrep:
    """ufw: UFW_READ's answer (None: not read, also when ufw is missing). selinux_config:
    /etc/selinux/config (None: unreadable or absent). nm, proxy, resolv: the answers of
    NM_READ, PROXY_READ and RESOLV_READ."""

    ufw: str | None = None
    selinux_config: str | None = None
    nm: str = ""
    proxy: str | None = None
    resolv: str | None = None


@dataclass(frozen=True, slots=True)
class CriAnswer:
    """`ctr --address SOCKET plugins ls` on a socket that exists."""

    ok: bool
    stdout: str
    stderr: str


@dataclass(frozen=True, slots=True)
class Runtime:
    """containerd and the kubelet.

    config: what kit.runner.files.stat_and_read read of config.toml (None: not read).
    config_default: `containerd config default` (None: it failed or containerd is
    missing). sockets: a CRI socket -> its `ctr plugins ls` answer, or None when no socket
    is there; a socket not read is not a key. containerd_active/enabled and kubelet_unit
    ((LoadState, UnitFileState)) are read under systemd only. kubelet_version: (exit code,
    stdout) of `kubelet --version`.
    """

    containerd_path: str | None = None
    config: str | None = None
    config_default: str | None = None
    sockets: Mapping[str, CriAnswer | None] = field(default_factory=_frozen_map)  # type: ignore[arg-type]
    containerd_active: bool | None = None
    containerd_enabled: bool | None = None
    kubelet_unit: tuple[str, str] | None = None
    kubelet_version: tuple[int, str] | None = None


@dataclass(frozen=True, slots=True)
class PortHolders:
    """`ss -Hltnp` (every TCP listener and its processes) and each listed process's last
    cgroup line, pid -> line."""

    listeners: str = ""
    cgroups: Mapping[str, str] = field(default_factory=_frozen_map)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class KubeletFiles:
    """show: `systemctl show -p FragmentPath -p DropInPaths -- kubelet.service` (None: it
    failed). dump: remediations.kubelet's dump of the unit files, the environment files
    and config and CA files it may name (None: not read)."""

    show: str | None = None
    dump: str | None = None
