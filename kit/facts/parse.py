"""Pure parsing of the facts script's answer: raw text in, Facts out.

One small function per section, each tolerant of an empty section (the tool
was missing on the host), which yields the explicit unknown value.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import shlex
from collections.abc import Collection, Mapping
from types import MappingProxyType

from kit.facts import commands, sections
from kit.facts.model import (
    UNKNOWN,
    CriAnswer,
    Facts,
    FileStat,
    HostPrep,
    Interface,
    KernelPrep,
    KubeletFiles,
    ModulesBoot,
    Mount,
    OSInfo,
    PortHolders,
    Runtime,
    Socket,
    TimeSync,
)

MARKER = "@@hostkit:"

# Family by os-release ID or ID_LIKE: the package and service conventions they share.
_FAMILIES = {
    "debian": "debian",
    "ubuntu": "debian",
    "raspbian": "debian",
    "rhel": "rhel",
    "centos": "rhel",
    "fedora": "rhel",
    "rocky": "rhel",
    "almalinux": "rhel",
    "ol": "rhel",
    "amzn": "rhel",
    "suse": "suse",
    "opensuse": "suse",
    "sles": "suse",
    "alpine": "alpine",
    "arch": "arch",
}

# Process names (comm, truncated to 15 characters by the kernel) of time daemons.
_TIME_DAEMONS = (
    ("chronyd", "chronyd"),
    ("systemd-timesyn", "systemd-timesyncd"),
    ("ntpd", "ntpd"),
)

# Tables iptables-nft creates; rules only in these are iptables rules.
_IPTABLES_NFT_TABLES = {"filter", "nat", "mangle", "raw", "security"}


def split_sections(raw: str) -> dict[str, str]:
    sections: dict[str, str] = {}
    name: str | None = None
    lines: list[str] = []
    for line in raw.splitlines():
        if line.startswith(MARKER):
            if name is not None:
                sections[name] = "\n".join(lines).strip("\n")
            name, lines = line[len(MARKER) :].strip(), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        sections[name] = "\n".join(lines).strip("\n")
    return sections


def parse_facts(raw: str) -> Facts:
    sec = split_sections(raw)
    sysctls = parse_sysctls(sec.get("sysctls", ""))
    executables = parse_executables(sec.get("executables", ""))
    interfaces = parse_interfaces(sec.get("links", ""), sec.get("addrs", ""))
    procs = set(sec.get("procs", "").split())
    swap_units, zram = parse_swap_units(sec.get("swap-units", ""))
    return Facts(
        os=parse_os_release(sec.get("os-release", "")),
        hostname=sysctls.get("kernel.hostname", UNKNOWN),
        kernel=sysctls.get("kernel.osrelease", UNKNOWN),
        memory_mib=parse_memory(sec.get("meminfo", "")),
        cpu_count=parse_int(sec.get("cpu", "")),
        ipv4_default=parse_default_address(sec.get("route4", ""), interfaces, 4),
        ipv6_default=parse_default_address(sec.get("route6", ""), interfaces, 6),
        package_manager=commands.package_manager(executables),
        init_system=commands.init_system(parse_init(sec.get("init", "")), executables),
        selinux=parse_selinux(sec.get("selinux", "")),
        apparmor=parse_apparmor(sec.get("apparmor", "")),
        firewall=parse_firewall(
            procs, sec.get("ufw", ""), sec.get("nft", ""), sec.get("iptables", ""), executables
        ),
        interfaces=interfaces,
        swaps=parse_swaps(sec.get("swaps", "")),
        modules=parse_modules(sec.get("modules", "")),
        modules_builtin=parse_modules_builtin(sec.get("modules-builtin")),
        cgroup_version=parse_cgroup(sec.get("cgroup", "")),
        listening=parse_listening(sec),
        boot_id=sysctls.get("kernel.random.boot_id", UNKNOWN),
        timezone=parse_timezone(sec.get("timezone", "")),
        time_sync=parse_time_sync(sec.get("timesync", ""), procs),
        sysctls=sysctls,
        mounts=parse_mounts(sec.get("mounts", "")),
        executables=executables,
        hostname_addresses=parse_hostname_addresses(sec.get("hostname-addresses", "")),
        boot_files=parse_boot_files(sec.get("boot-files", "")),
        boot_links=parse_boot_links(sec.get("boot-files", "")),
        unit_states=parse_unit_states(sec.get("units", "")),
        swap_units=swap_units,
        zram_generator=zram,
        files=parse_file_probes(sec.get("files", "")),
        packages=parse_package_probes(sec.get("packages", "")),
        kernelprep=parse_kernelprep(sec),
        hostprep=parse_hostprep(sec),
        runtime=parse_runtime(sec),
        ports=parse_ports(sec.get("ports")),
        kubelet_files=parse_kubelet_files(sec.get("kubelet-files")),
        modules_boot=parse_modules_boot(sec.get("modules-boot"), sec.get("kernelprep-config", "")),
    )


def parse_update(facts: Facts, raw: str, gathered: Collection[str]) -> Facts:
    """facts with the fields of a partial answer's sections (gathered: the sections the
    gather asked for) replaced by what it says; the others as they were."""
    new = parse_facts(raw)
    fresh = {name: getattr(new, name) for name in sections.fields_of(gathered)}
    return dataclasses.replace(facts, **fresh)


def parse_file_probes(text: str) -> Mapping[str, FileStat | None]:
    """stat lines (mode, owner, group, kind, path, tab-separated) or `absent<TAB>path`."""
    found: dict[str, FileStat | None] = {}
    for line in text.splitlines():
        parts = line.split("\t")
        if parts[0] == "absent" and len(parts) == 2:
            found[parts[1]] = None
        elif len(parts) == 5 and re.fullmatch(r"[0-7]{3,4}", parts[0]):
            found[parts[4]] = FileStat(int(parts[0], 8), parts[1], parts[2], parts[3])
    return MappingProxyType(found)


def parse_package_probes(text: str) -> Mapping[str, str | None]:
    """Every package asked about: its version when installed, else None."""
    installed: dict[str, str] = {}
    asked: list[str] = []
    for line in text.splitlines():
        parts = line.split("\t")
        if parts[0] == "asked" and len(parts) == 2:
            asked.append(parts[1])
        elif len(parts) == 3 and parts[1].endswith("install ok installed"):
            installed[parts[0].split(":")[0]] = parts[2]
    return MappingProxyType({name: installed.get(name.split(":")[0]) for name in asked})


def parse_hostname_addresses(text: str) -> tuple[str, ...]:
    """getent hosts output: an address, then names, a line each."""
    return tuple(dict.fromkeys(line.split()[0] for line in text.splitlines() if line.split()))


FILE_MARKER = "@@file:"
LINK_MARKER = "@@link:"


def parse_boot_links(text: str) -> Mapping[str, str]:
    """`@@link:PATH<TAB>TARGET` lines: which boot files are links, and to what."""
    links: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith(LINK_MARKER):
            path, sep, target = line[len(LINK_MARKER) :].partition("\t")
            if sep and path.startswith("/"):
                links[path] = target
    return MappingProxyType(links)


def parse_unit_states(text: str) -> Mapping[str, str]:
    """`unit=state` lines; a unit systemctl does not know (no state, or "not-found" from
    newer systemd) is left out."""
    states: dict[str, str] = {}
    for line in text.splitlines():
        unit, sep, state = line.partition("=")
        if sep and unit and state.strip() and state.strip() != "not-found":
            states[unit.strip()] = state.strip()
    return MappingProxyType(states)


def parse_swap_units(text: str) -> tuple[tuple[str, ...], bool]:
    """(swap unit links, whether zram-generator is installed)."""
    units = []
    zram = False
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "unit" and value.endswith(".swap"):
            units.append(value)
        elif key == "generator" and value:
            zram = True
    return tuple(dict.fromkeys(units)), zram


def parse_boot_files(text: str) -> Mapping[str, str]:
    """Files the script printed as `@@file:PATH` then their text, in the order printed."""
    files: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith(FILE_MARKER):
            current = files.setdefault(line[len(FILE_MARKER) :], [])
        elif line.startswith(LINK_MARKER):
            continue
        elif current is not None:
            current.append(line)
    return MappingProxyType(
        {path: "\n".join(body).rstrip("\n") + "\n" for path, body in files.items()}
    )


def parse_int(text: str) -> int | None:
    # Not str.isdigit: it is true for "²", which int() refuses.
    text = text.strip()
    return int(text) if _DIGITS.fullmatch(text) else None


_DIGITS = re.compile(r"[0-9]{1,18}")


def _address(text: str, version: int) -> str | None:
    """text when it is an IP address of that version, else None."""
    try:
        return text if ipaddress.ip_address(text).version == version else None
    except ValueError:
        return None


def parse_os_release(text: str) -> OSInfo:
    values: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or not key.strip().isidentifier():
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            words = [value]
        values[key.strip()] = " ".join(words)
    os_id = values.get("ID", "").lower() or UNKNOWN
    family = _FAMILIES.get(os_id)
    if family is None:
        for like in values.get("ID_LIKE", "").lower().split():
            family = _FAMILIES.get(like)
            if family:
                break
    return OSInfo(
        id=os_id,
        version_id=values.get("VERSION_ID") or UNKNOWN,
        family=family or UNKNOWN,
        pretty_name=values.get("PRETTY_NAME") or UNKNOWN,
    )


def parse_memory(text: str) -> int | None:
    match = re.search(r"MemTotal:\s+([0-9]{1,18})\s*kB", text)
    return int(match.group(1)) // 1024 if match else None


def parse_init(text: str) -> str:
    lines = set(text.split())
    if "systemd-booted" in lines:
        return "systemd"
    if "openrc" in lines:
        return "openrc"
    # pid 1 is sysvinit's "init" (busybox and upstart hosts say "init" too, without /etc/init.d
    # they have nothing we know how to drive).
    if "pid1=init" in lines and "init.d" in lines:
        return "sysvinit"
    return UNKNOWN


def parse_executables(text: str) -> Mapping[str, str | None]:
    found: dict[str, str | None] = {}
    for line in text.splitlines():
        name, sep, where = line.partition("=")
        if sep:
            # `command -v` prints a bare name for builtins and aliases: not a file we can use.
            found[name] = where if where.startswith("/") else None
    return MappingProxyType(found)


def parse_selinux(text: str) -> str:
    lines = text.split()
    if "enforce=1" in lines:
        return "enforcing"
    if "enforce=0" in lines:
        return "permissive"
    if "config" in lines:
        return "disabled"
    return "absent"


def parse_apparmor(text: str) -> str:
    value = text.strip()
    if value == "Y":
        return "enabled"
    if value == "N":
        return "disabled"
    return "absent"


def _rc(text: str) -> tuple[int | None, str]:
    """Split a probe's output from its trailing rc=N line (None when it did not run)."""
    body, _, last = text.rstrip("\n").rpartition("\n")
    if not last.startswith("rc="):
        body, last = "", text.strip()
    if not last.startswith("rc="):
        return None, ""
    rc = parse_int(last[3:])
    if rc is None:
        # The probe ran but its status is unreadable: a failed read, so the answer is
        # unknown rather than "no firewall".
        return -1, ""
    return rc, body


def _nft_tables_with_rules(ruleset: str) -> set[tuple[str, str]]:
    tables: set[tuple[str, str]] = set()
    current: tuple[str, str] | None = None
    for line in ruleset.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "table":
            current = (words[1], words[2])
        elif (
            current
            and words
            and words[0] not in {"chain", "type", "policy", "}", "table", "set", "map"}
            and not line.strip().startswith(("elements", "flags", "comment"))
        ):
            tables.add(current)
    return tables


def parse_firewall(
    procs: set[str],
    ufw: str,
    nft: str,
    iptables: str,
    executables: Mapping[str, str | None],
) -> str:
    if "firewalld" in procs:
        return "firewalld"
    if executables.get("ufw") and re.search(r"^ENABLED=\"?yes\"?\s*$", ufw, re.MULTILINE):
        return "ufw"
    nft_rc, ruleset = _rc(nft)
    ipt_rc, rules = _rc(iptables)
    if nft_rc == 0:
        for family, name in _nft_tables_with_rules(ruleset):
            if family not in {"ip", "ip6"} or name not in _IPTABLES_NFT_TABLES:
                return "nftables"
    if ipt_rc == 0 and any(line.startswith("-A ") for line in rules.splitlines()):
        return "iptables"
    readable = [rc for rc in (nft_rc, ipt_rc) if rc is not None]
    if readable and all(rc != 0 for rc in readable):
        # The tools exist but could not read the rules (no privilege): we cannot tell.
        return UNKNOWN
    return "none"


def parse_swaps(text: str) -> tuple[str, ...]:
    lines = text.splitlines()[1:]
    return tuple(_unescape(line.split()[0]) for line in lines if line.split())


def parse_modules(text: str) -> frozenset[str]:
    if text.strip() == "@absent":
        return frozenset()
    return frozenset(line.split()[0] for line in text.splitlines() if line.split())


def parse_modules_builtin(text: str | None) -> frozenset[str] | None:
    """Names in modules.builtin (the script strips the directories), `-` as `_`.

    None when the section is missing or the file was unreadable: unknown, not "none".
    """
    if text is None or text.strip() == "@absent":
        return None
    names = set()
    for line in text.splitlines():
        base = line.strip().rsplit("/", 1)[-1]
        if base.endswith(".ko"):
            names.add(base[:-3].replace("-", "_"))
    return frozenset(names)


def parse_cgroup(text: str) -> int | None:
    kind = text.strip()
    if kind == "cgroup2fs":
        return 2
    if kind == "tmpfs":
        return 1
    return None


def parse_interfaces(links: str, addrs: str) -> tuple[Interface, ...]:
    names = [n for n in links.split() if n]
    v4: dict[str, list[str]] = {}
    v6: dict[str, list[str]] = {}
    for line in addrs.splitlines():
        # "2: eth0    inet 10.0.0.2/24 brd ... scope global eth0\ valid_lft ..."
        words = line.split()
        if len(words) < 4 or words[2] not in {"inet", "inet6"}:
            continue
        name = words[1].split("@", 1)[0]
        address = _address(words[3].split("/", 1)[0], 4 if words[2] == "inet" else 6)
        if address is None:
            continue
        (v4 if words[2] == "inet" else v6).setdefault(name, []).append(address)
        if name not in names:
            names.append(name)
    return tuple(
        Interface(n, tuple(v4.get(n, ())), tuple(v6.get(n, ()))) for n in sorted(set(names))
    )


def parse_default_address(
    routes: str, interfaces: tuple[Interface, ...], version: int
) -> str | None:
    for line in routes.splitlines():
        words = line.split()
        if not words or words[0] != "default":
            continue
        opts = dict(zip(words[1::2], words[2::2], strict=False))
        src = _address(opts.get("src", ""), version)
        if src is not None:
            return src
        dev = opts.get("dev")
        iface = next((i for i in interfaces if i.name == dev), None)
        if iface is None:
            continue
        candidates = iface.ipv4 if version == 4 else iface.ipv6
        usable = [
            a
            for a in candidates
            if _address(a, version) and not ipaddress.ip_address(a).is_link_local
        ]
        if usable:
            return usable[0]
    return None


def _hex_address(text: str) -> str:
    raw = bytes.fromhex(text)
    # /proc/net prints each 32-bit word in host (little-endian) order.
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def parse_proc_net(text: str, proto: str) -> list[Socket]:
    found = []
    for line in text.splitlines()[1:]:
        words = line.split()
        if len(words) < 4:
            continue
        local, remote, state = words[1], words[2], words[3]
        listening = state == "0A" if proto == "tcp" else state == "07" and remote.endswith(":0000")
        if not listening:
            continue
        address, _, port = local.partition(":")
        if not re.fullmatch(r"[0-9A-Fa-f]{4}", port):
            continue
        try:
            found.append(Socket(proto, _hex_address(address), int(port, 16)))  # type: ignore[arg-type]
        except ValueError:
            continue
    return found


def parse_listening(sections: Mapping[str, str]) -> tuple[Socket, ...]:
    sockets: set[Socket] = set()
    for name, proto in (("tcp", "tcp"), ("tcp6", "tcp"), ("udp", "udp"), ("udp6", "udp")):
        sockets.update(parse_proc_net(sections.get(f"net-{name}", ""), proto))
    return tuple(sorted(sockets, key=lambda s: (s.proto, s.port, s.address)))


def parse_timezone(text: str) -> str:
    link = ""
    plain = ""
    for line in text.splitlines():
        if line.startswith("link="):
            link = line[5:].strip()
        elif line.strip():
            plain = line.strip()
    if "zoneinfo/" in link:
        return link.split("zoneinfo/", 1)[1]
    return plain or UNKNOWN


def parse_time_sync(text: str, procs: set[str]) -> TimeSync:
    synced: bool | None = None
    leap: str | None = None
    flag: bool | None = None
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "ntpsynchronized":
            synced = {"yes": True, "no": False}.get(value.strip())
        elif key == "chrony-leap":
            leap = value.strip() or None
        elif key == "timesyncd-synchronized":
            flag = {"yes": True, "no": False}.get(value.strip())
    service = next((name for comm, name in _TIME_DAEMONS if comm in procs), None)
    return TimeSync(synced, service, leap, flag)


def _unescape(field: str) -> str:
    """Undo the octal escapes /proc uses for spaces and tabs in paths."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def parse_mounts(text: str) -> tuple[Mount, ...]:
    mounts = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 4:
            mounts.append(Mount(*(_unescape(w) for w in words[:4])))
    return tuple(mounts)


def sysctl_key(path: str) -> str:
    """/proc/sys/net/ipv4/conf/eth0.100/rp_filter -> net.ipv4.conf.eth0/100.rp_filter."""
    parts = path.removeprefix("/proc/sys/").split("/")
    return ".".join(p.replace(".", "/") for p in parts)


def parse_sysctls(text: str) -> Mapping[str, str]:
    if text.startswith(_PATHS):
        return MappingProxyType(_one_pass(text)[0])
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        path, sep, value = line.partition(":")
        if sep and path.startswith("/proc/sys/"):
            values.setdefault(sysctl_key(path), []).append(value)
    # Multi-line values (dev.cdrom.info) join into one; tabs and runs of spaces become one.
    return MappingProxyType({k: " ".join(" ".join(v).split()) for k, v in values.items()})


_PATHS, _VALUES, _ERRORS = "@@paths", "@@values", "@@errors"
# strerror() of what open(2) fails with on a /proc/sys file: gone, or not this login's.
_UNOPENED = ("No such file or directory", "Permission denied", "Operation not permitted")


def _one_pass(text: str) -> tuple[dict[str, str], frozenset[str]]:
    """(values, empty sysctls) of the one-pass read: the paths, a line per path from
    `paste -s` (a file's lines joined by tabs), paste's errors. A file holding a
    character other than a tab or newline has a value, as `grep .` printed it; one that
    read without an error and holds none is empty. The answer's last empty lines may be
    missing (a capture drops the last newlines); more lines than paths is no answer."""
    lines = text.splitlines()
    try:
        v, e = lines.index(_VALUES), lines.index(_ERRORS)
    except ValueError:
        return {}, frozenset()
    errors = lines[e + 1 :]
    failed = {p for p in lines[1:v] if any(f" {p}: " in err for err in errors)}
    # paste prints no line for a file it could not open, and one for a file it could not
    # read (stable_secret's EIO): only those have a line.
    unopened = {
        p for p in failed if any(f" {p}: {why}" in err for err in errors for why in _UNOPENED)
    }
    paths, got = [p for p in lines[1:v] if p not in unopened], lines[v + 1 : e]
    if len(got) > len(paths):
        return {}, frozenset()
    got += [""] * (len(paths) - len(got))
    values, empty = {}, set()
    for path, value in zip(paths, got, strict=True):
        if not path.startswith("/proc/sys/") or path in failed:
            continue
        if value.strip("\t"):
            values[sysctl_key(path)] = " ".join(value.split())
        else:
            empty.add(sysctl_key(path))
    return values, frozenset(empty)


# -- kernel preparation ------------------------------------------------------------------


def parse_kernelprep(sec: Mapping[str, str]) -> KernelPrep | None:
    """The kernel preparation block's sections; None when the script had no such block."""
    if "kernelprep-cgroup" not in sec:
        return None
    config_path, config = None, sec.get("kernelprep-config", "")
    if config.startswith("@path="):
        first, _, config = config.partition("\n")
        config_path = first[len("@path=") :]
    disk: dict[str, tuple[str, str]] = {}
    path = None
    for line in sec.get("kernelprep-df", "").splitlines():
        if line.startswith("@path="):
            path, _, existing = line[len("@path=") :].partition("\t")
            disk[path] = (existing, "")
        elif path is not None:
            existing, text = disk[path]
            disk[path] = (existing, text + line + "\n")
    empty = sec.get("kernelprep-sysctl-empty", "").splitlines()
    if sec.get("sysctls", "").startswith(_PATHS):
        empty_keys = _one_pass(sec["sysctls"])[1]
    else:
        empty_keys = frozenset(sysctl_key(p) for p in empty if p.startswith("/proc/sys/"))
    return KernelPrep(
        config_path=config_path,
        config=config,
        disk=MappingProxyType(disk),
        cgroup=sec["kernelprep-cgroup"],
        empty_sysctls=empty_keys,
    )


# -- node checks' reads ------------------------------------------------------------------

_BEGIN, _END = "@@begin\n", "\n@@end"
_ABSENT = "@@absent\n"


def exact(text: str | None) -> str | None:
    """The text a read printed between its @@begin and @@end lines; None when the
    section holds no such text (the read was not made)."""
    if text is None:
        return None
    start = text.find(_BEGIN)
    end = text.rfind(_END)
    if start < 0 or end < start:
        return None
    return text[start + len(_BEGIN) : end]


def _present(text: str | None) -> str | None:
    return None if text is None or text == _ABSENT else text


def _rc_tail(text: str, mark: str = "rc=") -> tuple[int | None, str]:
    """(exit code, the output before it) of a read whose last line is `rc=N`."""
    body, _, last = text.rstrip("\n").rpartition("\n")
    if not last.startswith(mark):
        body, last = "", text.strip()
    return parse_int(last[len(mark) :]) if last.startswith(mark) else None, body


def parse_hostprep(sec: Mapping[str, str]) -> HostPrep | None:
    if "hostprep-nm" not in sec:
        return None
    return HostPrep(
        ufw=exact(sec.get("hostprep-ufw")),
        selinux_config=_present(exact(sec.get("hostprep-selinux-config"))),
        nm=exact(sec["hostprep-nm"]) or "",
        proxy=exact(sec.get("hostprep-proxy")),
        resolv=exact(sec.get("hostprep-resolv")),
    )


def parse_cri(text: str) -> Mapping[str, CriAnswer | None]:
    """`@@socket:PATH` then `@@nosocket`, or the answer between @@begin and @@end."""
    found: dict[str, CriAnswer | None] = {}
    for part in text.split("@@socket:")[1:]:
        path, _, rest = part.partition("\n")
        if rest.startswith("@@nosocket"):
            found[path] = None
            continue
        answer = exact(rest)
        if answer is None:
            continue
        lines = answer.splitlines()
        err = [ln[len("@@err:") :] for ln in lines if ln.startswith("@@err:")]
        out = [ln for ln in lines if not ln.startswith("@@err:")]
        rc, stdout = _rc_tail("\n".join(out) + "\n", "@@rc=")
        if rc is None:
            continue
        found[path] = CriAnswer(rc == 0, stdout + "\n" if stdout else "", "\n".join(err))
    return MappingProxyType(found)


def parse_runtime(sec: Mapping[str, str]) -> Runtime | None:
    if "runtime-containerd-path" not in sec:
        return None
    rc, where = _rc_tail(exact(sec["runtime-containerd-path"]) or "")
    units: dict[str, str] = {}
    for line in sec.get("runtime-units", "").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            units[key] = value
    kubelet_unit = None
    if units.get("@@kubelet-show-rc") == "0":
        kubelet_unit = (units.get("LoadState", ""), units.get("UnitFileState", ""))
    version_rc, version = _rc_tail(exact(sec.get("runtime-kubelet-version")) or "")
    active, enabled = units.get("containerd-active"), units.get("containerd-enabled")
    return Runtime(
        containerd_path=where.strip() if rc == 0 and where.strip().startswith("/") else None,
        config=exact(sec.get("runtime-config")),
        config_default=_present(exact(sec.get("runtime-config-default"))),
        sockets=parse_cri(sec.get("runtime-cri", "")),
        containerd_active=None if active is None else active == "0",
        containerd_enabled=None if enabled is None else enabled == "0",
        kubelet_unit=kubelet_unit,
        kubelet_version=None if version_rc is None else (version_rc, version),
    )


def parse_ports(text: str | None) -> PortHolders | None:
    body = exact(text)
    if body is None:
        return None
    cgroups: dict[str, str] = {}
    listeners: list[str] = []
    rc = None
    for line in body.splitlines():
        if line.startswith("@@cgroup:"):
            pid, _, last = line[len("@@cgroup:") :].partition("\t")
            cgroups[pid] = last
        elif line.startswith("@@rc="):
            rc = parse_int(line[len("@@rc=") :])
        else:
            listeners.append(line)
    if rc != 0:
        # ss failed: the check reads again and reports its error.
        return None
    return PortHolders("\n".join(listeners), MappingProxyType(cgroups))


def parse_kubelet_files(text: str | None) -> KubeletFiles | None:
    if text is None:
        return None
    show = None
    if text.startswith("@@show\n"):
        show = text[len("@@show\n") :].partition("\n@@begin\n")[0].partition("\n@@unpriv")[0]
    return KubeletFiles(show, exact(text))


# -- kernel modules at boot (issue 23) -----------------------------------------------------


def parse_modules_boot(text: str | None, kconfig: str) -> ModulesBoot | None:
    """The modules-boot section: `@@proc-modules-readable`, then `@@sys-module` and its
    names, and `@@file:PATH` blocks of modprobe.d. kconfig: the kernelprep-config
    section, which holds the config lines the module check reads too."""
    if text is None:
        return None
    parts: dict[str, list[str]] = {"sys-module": []}
    current: list[str] | None = None
    readable = False
    for line in text.splitlines():
        if line == "@@proc-modules-readable":
            readable = True
        elif line == "@@sys-module":
            current = parts["sys-module"]
        elif line.startswith(FILE_MARKER):
            current = None
        elif current is not None:
            current.append(line)
    start = text.find(FILE_MARKER)
    return ModulesBoot(
        proc_modules_readable=readable,
        sys_modules=frozenset(n.strip() for n in parts["sys-module"] if n.strip()),
        kconfig=kconfig,
        modprobe_files=parse_boot_files(text[start:]) if start >= 0 else MappingProxyType({}),
    )
