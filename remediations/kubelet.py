"""The kubelet's files and settings as kube-bench's CIS worker node section reads them.

Reading: the unit's files (systemctl show), the environment files they name, the
KubeletConfiguration file, in two round trips. Deciding: `Setting.evaluate`, pure, over
the flags and the config file; a flag overrides the file, as the kubelet applies them
and as kube-bench looks at `ps` first and at the config file only when the flag is
absent (check/check.go, Check.execute).

Fixes write a --config-dir drop-in of their own where the kubelet has that directory,
else its config file, and restart the kubelet (medium disruption). A fix to a file that
an installer writes again (kubeadm's config.yaml on `kubeadm upgrade`, kubespray's
kubelet-config.yaml on its next run, packaged unit files on a package upgrade) says so in
its summary and in `explain`. Where a flag, or a drop-in merged later, overrides the value
with a bad one, the fix refuses and names the file that sets it: those files belong to
kubeadm (kubeadm-flags.env is rewritten on `kubeadm upgrade`) or to the installer, and
editing a flag out of a shared variable by hand is the operator's call.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from hostkit_catalog.remediations import cis_versions as versions
from hostkit_catalog.remediations import sysctl as sysctl_fixes
from hostkit_catalog.remediations.sysctl import KERNEL_DEFAULTS
from kit.catalog.remediation import Target, remediation
from kit.connection import Connection, quote
from kit.edits import kubelet as units
from kit.edits import yamlset
from kit.errors import FixRefused
from kit.runner import files, services
from kit.runner.change import Change, combine
from kit.runner.validate import path as valid_path

UNIT = "kubelet.service"
# kube-bench's node.kubelet.defaultconf: the config file when the kubelet names none.
DEFAULT_CONFIG = "/var/lib/kubelet/config.yaml"
KUBE_BENCH = "cfg/cis-1.12/node.yaml"
_MARK = "@@hostkit-kubelet"
_DUMP = (
    'for p in "$@"; do if [ -e "$p" ]; then printf "' + _MARK + ' %s " "$p"; '
    'stat -c "%a %U %G" -- "$p"; cat -- "$p" 2>/dev/null; echo; '
    'else printf "' + _MARK + ' %s absent\\n" "$p"; fi; done'
)

# cfg/cis-1.12/node.yaml 4.2.12: the cipher suites the benchmark calls strong.
STRONG_CIPHERS = frozenset(
    {
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
    }
)

# cis-1.7 to cis-1.11's 4.2.12 also allows these two (kube-bench cfg/cis-1.11/node.yaml).
LEGACY_CIPHERS = STRONG_CIPHERS | {
    "TLS_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_RSA_WITH_AES_256_GCM_SHA384",
}


class KubeletError(FixRefused):
    """The kubelet's setting cannot be fixed from its config file: left to the operator."""


@dataclass(frozen=True)
class FileRead:
    path: str
    mode: int | None  # None: the file does not exist
    owner: str = ""
    group: str = ""
    text: str = ""

    @property
    def exists(self) -> bool:
        return self.mode is not None


# The files of --config-dir directories: per directory one line, `@@hostkit-kubelet-dir DIR`
# and the path of each file under it named *.conf (or ` @@absent`). Paths are words.
_LIST = (
    'for d in "$@"; do printf "' + _MARK + '-dir %s" "$d"; if [ -d "$d" ]; then '
    "find \"$d\"/ ! -type d -name '*.conf' 2>/dev/null | while read -r f; do "
    'printf " %s" "$f"; done; else printf " @@absent"; fi; echo; done'
)
_HEAD = re.compile(
    re.escape(_MARK)
    + r"(?: (?P<path>\S+) (?:absent|(?P<mode>[0-7]{3,4}) (?P<owner>\S+) (?P<group>\S+))"
    + r"|-dir (?P<dir>\S+)(?P<listed>(?: \S+)*) *"
    + r"|-proc (?P<pid>[0-9]+)(?: (?P<name>\S+))?"
    + r"|-metrics (?P<metrics>\S+)(?P<absent> @@absent)?)\n"
)
# The running kubelet's and kube-proxy's command lines, as kube-bench's `ps -fC` sees them:
# each process whose comm is one of them, its arguments one a line (`read` is a builtin:
# no process is started per /proc entry). A zombie's cmdline is empty.
_PROC = (
    "for d in /proc/[0-9]*; do c=; read -r c 2>/dev/null < $d/comm; case $c in "
    'kubelet|kube-proxy) printf "' + _MARK + '-proc %s %s\\n" "${d#/proc/}" "$c"; '
    "tr '\\000' '\\n' < $d/cmdline; echo;; esac; done"
)
# Only the metricsBindAddress lines of kube-proxy's kubeconfig (kube-bench's 4.3.1 reads
# that file): the rest may hold its client key, which stays on the host.
_METRICS = (
    'if [ -e "$1" ]; then printf "' + _MARK + '-metrics %s\\n" "$1"; '
    "sed -n '/^[[:space:]]*metricsBindAddress:/p' -- \"$1\"; "
    'else printf "' + _MARK + '-metrics %s @@absent\\n" "$1"; fi'
)


@dataclass(frozen=True)
class Process:
    """A running kubelet or kube-proxy: its pid and arguments (the program first)."""

    pid: str
    args: tuple[str, ...]


def _records(out: str, group: str) -> list[tuple[re.Match[str], str]]:
    """The marks of one kind in a dump, each with the text up to the next mark."""
    marks = list(_HEAD.finditer(out))
    found = []
    for index, match in enumerate(marks):
        if match.group(group) is not None:
            end = marks[index + 1].start() if index + 1 < len(marks) else len(out)
            found.append((match, out[match.end() : end]))
    return found


def parse_process(out: str, name: str = "kubelet") -> Process | None:
    """The first -proc record of name in a dump with arguments (one a line)."""
    for match, text in _records(out, "pid"):
        if (match.group("name") or "kubelet") != name:
            continue
        args = tuple(line for line in text.split("\n") if line)
        if args:
            return Process(match.group("pid"), args)
    return None


def parse_metrics(out: str) -> dict[str, FileRead]:
    """The -metrics records: path -> a FileRead holding only its metricsBindAddress lines."""
    return {
        m.group("metrics"): FileRead(m.group("metrics"), None)
        if m.group("absent")
        else FileRead(m.group("metrics"), 0, text=text)
        for m, text in _records(out, "metrics")
    }


def read_process(conn: Connection, name: str = "kubelet") -> Process | None:
    return parse_process(conn.read("sh -c %s", _PROC, sudo=True).stdout, name)


def read_metrics(conn: Connection, path: str) -> FileRead:
    valid_path(path)
    out = conn.read(f"sh -c %s sh {quote(path)}", _METRICS, sudo=True).check().stdout
    return parse_metrics(out).get(path, FileRead(path, None))


def parse_dirs(out: str) -> dict[str, list[str] | None]:
    """The directory lines of a dump: dir -> its *.conf files (None: no such directory)."""
    found: dict[str, list[str] | None] = {}
    for match, _ in _records(out, "dir"):
        words = [re.sub("/+", "/", w) for w in match.group("listed").split()]
        found[match.group("dir")] = None if words == ["@@absent"] else words
    return found


def parse_dump(out: str) -> dict[str, FileRead]:
    """What _DUMP prints: per path a header line (path and stat, or `absent`), then the
    file's text and one added newline."""
    found: dict[str, FileRead] = {}
    for match, text in _records(out, "path"):
        path = match.group("path")
        if match.group("mode") is None:
            found[path] = FileRead(path, None)
            continue
        mode = int(match.group("mode"), 8)
        owner, group = match.group("owner"), match.group("group")
        found[path] = FileRead(path, mode, owner, group, text.removesuffix("\n"))
    return found


def read_files(conn: Connection, paths: Sequence[str]) -> dict[str, FileRead]:
    if not paths:
        return {}
    for p in paths:
        valid_path(p)
    args = " ".join(quote(p) for p in paths)
    out = conn.read(f"sh -c %s sh {args}", _DUMP, sudo=True).check().stdout
    return parse_dump(out)


def parse_show(out: str) -> list[str]:
    """The unit file and its drop-ins from `systemctl show -p FragmentPath -p DropInPaths`."""
    props = dict(line.partition("=")[::2] for line in out.splitlines() if "=" in line)
    found = [props.get("FragmentPath", "").strip()]
    found += props.get("DropInPaths", "").split()
    return [p for p in found if p]


def unit_files(conn: Connection, unit: str = UNIT) -> list[str]:
    res = conn.read("systemctl show -p FragmentPath -p DropInPaths -- %s", unit)
    return parse_show(res.stdout) if res.ok else []


@dataclass(frozen=True)
class Kubelet:
    """The kubelet's unit files, flags, config file and --config-dir drop-ins as read from a
    host; config_data is the file with the drop-ins merged over it."""

    unit_files: tuple[FileRead, ...]
    flags: Mapping[str, units.Flag]
    config: FileRead
    config_data: Mapping[str, Any] = field(default_factory=dict)
    dropins: tuple[tuple[FileRead, Mapping[str, Any]], ...] = ()
    dropin_dir: str | None = None  # its --config-dir, where that directory exists
    process: Process | None = None  # the running kubelet, whose flags these are

    @property
    def config_path(self) -> str:
        return self.config.path

    @property
    def config_dir(self) -> str | None:
        flag = self.flags.get("config-dir")
        return flag.value if flag and flag.value else None

    def origin(self, path: Sequence[str]) -> str:
        """The file the merged value at path comes from: the last drop-in that sets it,
        else the config file."""
        for read, data in reversed(self.dropins):
            if _sets(data, path):
                return read.path
        return self.config_path


def _sets(data: Any, path: Sequence[str]) -> bool:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch, as the kubelet merges each drop-in (jsonpatch.MergePatch):
    mappings merge key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def dropin_order(paths: Sequence[str]) -> list[str]:
    """The drop-ins the kubelet reads from --config-dir, in its order: files whose name's
    extension (Go's filepath.Ext) is .conf, in filepath.WalkDir's order (lexical within
    each directory, a directory's contents where its name sorts)."""

    def ext(path: str) -> str:
        name = path.rsplit("/", 1)[-1]
        return "." + name.rsplit(".", 1)[1] if "." in name else ""

    return sorted((p for p in paths if ext(p) == ".conf"), key=lambda p: p.split("/"))


def build(
    unit_reads: Sequence[FileRead],
    env_reads: Mapping[str, FileRead],
    config: FileRead,
    dropins: Sequence[FileRead] = (),
    dropin_dir: str | None = None,
    process: Process | None = None,
) -> Kubelet:
    """A Kubelet from files already read: pure, for recorded inputs. dropins: the files of
        its --config-dir, in any order; dropin_dir: that directory, where it exists; process: the
    running kubelet, whose flags then decide."""
    flags = flags_of(unit_reads, env_reads, process)
    data = yamlset.load(config.text, config.path) if config.exists else {}
    by_path = {d.path: d for d in dropins if d.exists}
    parsed = []
    for path in dropin_order(list(by_path)):
        patch = yamlset.load(by_path[path].text, path)
        parsed.append((by_path[path], patch))
        data = merge_patch(data, patch)
    return Kubelet(tuple(unit_reads), flags, config, data, tuple(parsed), dropin_dir, process)


def flags_of(
    unit_reads: Sequence[FileRead],
    env_reads: Mapping[str, FileRead],
    process: Process | None = None,
) -> dict[str, units.Flag]:
    """The kubelet's flags: the running kubelet's where it runs (kube-bench reads `ps`),
    else as systemd would start it from its unit and environment files. A running flag
    the unit files set to the same value keeps their file as its origin, so that a verdict
    names the file to change."""
    service = units.parse_units([(f.path, f.text) for f in unit_reads if f.exists])
    env = {p: f.text for p, f in env_reads.items() if f.exists}
    planned = units.parse_flags(units.command_line(service, env))
    if process is None:
        return planned
    where = f"the running kubelet (pid {process.pid})"
    running = units.parse_flags([units.Word(a, where) for a in process.args])
    return {
        name: planned[name] if name in planned and planned[name].value == flag.value else flag
        for name, flag in running.items()
    }


def config_path_of(flags: Mapping[str, units.Flag], default: str) -> str:
    """The config file the kubelet reads: its --config, else the profile's default (kube-bench:
    the --config of `ps`, else the first of its confs that exists)."""
    flag = flags.get("config")
    return flag.value if flag and flag.value else default


@dataclass(frozen=True)
class Reads:
    """The kubelet's files as read, before the config file is parsed."""

    unit_reads: tuple[FileRead, ...]
    env_reads: Mapping[str, FileRead]
    config: FileRead
    dropins: tuple[FileRead, ...] = ()
    dropin_dir: str | None = None
    process: Process | None = None

    def kubelet(self) -> Kubelet:
        return build(
            self.unit_reads,
            self.env_reads,
            self.config,
            self.dropins,
            self.dropin_dir,
            self.process,
        )


def list_dir(conn: Connection, directory: str) -> list[str] | None:
    """The files named *.conf under directory (None: it does not exist)."""
    valid_path(directory)
    out = conn.read(f"sh -c %s sh {quote(directory)}", _LIST, sudo=True).check().stdout
    return parse_dirs(out).get(directory)


def read_raw(conn: Connection, config_path: str, unit: str = UNIT) -> Reads:
    """The kubelet's unit, environment and config files as the host has them. The config
    file is the one --config names, or config_path (the profile's) without a --config."""
    paths = unit_files(conn, unit)
    unit_reads = read_files(conn, paths)
    service = units.parse_units([(p, f.text) for p, f in unit_reads.items() if f.exists])
    env_paths = [p for p, _ in service.environment_files]
    env_reads = read_files(conn, env_paths)
    ordered = tuple(unit_reads[p] for p in paths)
    process = read_process(conn)
    flags = flags_of(ordered, env_reads, process)
    path = config_path_of(flags, config_path)
    config = read_files(conn, [path])[path]
    directory = flags.get("config-dir")
    listed = list_dir(conn, directory.value) if directory and directory.value else None
    dropins = read_files(conn, dropin_order(listed)) if listed else {}
    present = directory.value if directory and listed is not None else None
    return Reads(ordered, env_reads, config, tuple(dropins.values()), present, process)


def read(conn: Connection, config_path: str, unit: str = UNIT) -> Kubelet:
    """The kubelet as the host has it (read_raw, its config file parsed)."""
    return read_raw(conn, config_path, unit).kubelet()


# -- settings ---------------------------------------------------------------------------


def text_of(value: Any) -> str:
    """A config value as kube-bench's JSONPath prints it: booleans lowercase, a list's
    items joined with commas (4.2.12's `{range ...}{}{','}{end}`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(text_of(v) for v in value)
    return str(value)


def zero_duration(value: str) -> bool:
    # kube-bench compares the text with "0"; "0s" and "0m0s" are the same duration.
    numbers = re.findall(r"[0-9]*\.?[0-9]+", value)
    return bool(numbers) and all(float(n) == 0 for n in numbers)


@dataclass(frozen=True)
class Found:
    value: str | None
    where: str  # e.g. "flag --read-only-port=0 in /etc/default/kubelet"
    by_flag: bool = False


@dataclass(frozen=True)
class Setting:
    """One kubelet setting of the benchmark: its flag, its config key, what passes.

    unset_ok: kube-bench's second test item with `set: false`, under `bin_op: or`: the
    setting passes when neither the flag nor the key is there (the kubelet's default is
    then a good one).
    """

    bench_id: str
    flag: str
    path: tuple[str, ...]
    good: Callable[[str], bool]
    want: str
    unset_ok: bool
    fix_value: bool | int | str | None = None
    gate: str | None = None  # a feature gate: flag --feature-gates, key featureGates.<gate>
    # A duration the kubelet replaces with this default when the config file has it zero
    # (SetDefaults_KubeletConfiguration, pkg/kubelet/apis/config/v1beta1/defaults.go):
    # kubeadm writes `0s` for every duration it leaves to the kubelet. A flag is applied
    # over the defaulted file, so a zero flag stays zero. Of the values the benchmark
    # reads, streamingConnectionIdleTimeout is the only such duration: readOnlyPort is
    # not defaulted (0 is off), eventRecordQPS is defaulted only when absent (a pointer:
    # 0 stays 0, no limit), podPidsLimit when absent or negative (to -1, set either way).
    zero_default: str | None = None
    # Another setting the benchmark's same item requires too (4.2.9: cert and key).
    together: str | None = None

    @property
    def key(self) -> str:
        return ".".join(self.path)

    def find(self, kubelet: Kubelet) -> Found:
        flag = kubelet.flags.get(self.flag)
        if flag is not None:
            value = units.feature_gates(flag.value).get(self.gate) if self.gate else flag.value
            if value is not None:
                shown = f"{self.gate}={value}" if self.gate else f"{flag.value}"
                return Found(value, f"flag --{self.flag}={shown} in {flag.origin}", True)
        if not self.path:  # a flag with no config key (4.2.7 --hostname-override)
            return Found(None, f"--{self.flag} is not set")
        raw = yamlset.get(kubelet.config_data, self.path)
        origin = kubelet.origin(self.path)
        where = f"{self.key}: {text_of(raw)} in {origin}"
        # Only the file is defaulted: drop-ins are merged over the defaulted file.
        from_file = origin == kubelet.config_path
        if raw is not None and from_file and self.zero_default and zero_duration(text_of(raw)):
            return Found(None, f"{where} (the kubelet's default, {self.zero_default}, applies)")
        if raw is not None:
            return Found(text_of(raw), where)
        return Found(None, f"{self.key} is not set in {kubelet.config_path} nor by a flag")

    def problem(self, kubelet: Kubelet) -> str | None:
        """Why the kubelet fails this setting, or None when it passes."""
        found = self.find(kubelet)
        if found.value is None:
            mine = None if self.unset_ok else f"{found.where}; want {self.want}"
        elif self.good(found.value):
            mine = None
        else:
            mine = f"{found.where}; want {self.want}"
        other = SETTINGS[self.together].problem(kubelet) if self.together else None
        return "; ".join(p for p in (mine, other) if p) or None


SETTINGS: dict[str, Setting] = {
    "anonymous-auth": Setting(
        "4.2.1",
        "anonymous-auth",
        ("authentication", "anonymous", "enabled"),
        lambda v: v.lower() == "false",
        "false",
        unset_ok=False,
        fix_value=False,
    ),
    "authorization-mode": Setting(
        "4.2.2",
        "authorization-mode",
        ("authorization", "mode"),
        lambda v: "AlwaysAllow" not in v,
        "Webhook (not AlwaysAllow)",
        unset_ok=False,
        fix_value="Webhook",
    ),
    "client-ca-file": Setting(
        "4.2.3",
        "client-ca-file",
        ("authentication", "x509", "clientCAFile"),
        lambda v: bool(v.strip()),
        "the client CA file",
        unset_ok=False,
    ),
    "read-only-port": Setting(
        "4.2.4",
        "read-only-port",
        ("readOnlyPort",),
        lambda v: v.strip() == "0",
        "0",
        unset_ok=True,
        fix_value=0,
    ),
    "streaming-connection-idle-timeout": Setting(
        "4.2.5",
        "streaming-connection-idle-timeout",
        ("streamingConnectionIdleTimeout",),
        lambda v: not zero_duration(v),
        "a timeout other than 0",
        unset_ok=True,
        # The kubelet's own default, which the benchmark accepts.
        fix_value="4h0m0s",
        zero_default="4h",
    ),
    "make-iptables-util-chains": Setting(
        "4.2.6",
        "make-iptables-util-chains",
        ("makeIPTablesUtilChains",),
        lambda v: v.lower() == "true",
        "true",
        unset_ok=True,
        fix_value=True,
    ),
    "rotate-certificates": Setting(
        "4.2.10",
        "rotate-certificates",
        ("rotateCertificates",),
        lambda v: v.lower() == "true",
        "true",
        unset_ok=True,
        fix_value=True,
    ),
    "rotate-kubelet-server-certificate": Setting(
        "4.2.11",
        "feature-gates",
        ("featureGates", "RotateKubeletServerCertificate"),
        lambda v: "false" not in v.lower(),
        "true",
        unset_ok=True,
        fix_value=True,
        gate="RotateKubeletServerCertificate",
    ),
    "pod-max-pids": Setting(
        "4.2.13",
        "pod-max-pids",
        ("podPidsLimit",),
        # cfg/cis-1.12/node.yaml 4.2.13 has one test item and no `compare`: any value
        # that is set passes (-1, the kubelet's "no limit", too). The fix sets a limit.
        lambda v: True,
        "it set (the benchmark: a limit suited to the node)",
        unset_ok=False,
    ),
    "seccomp-default": Setting(
        "4.2.14",
        "seccomp-default",
        ("seccompDefault",),
        # 4.2.14's title says true, but its one test item has no `compare`: kube-bench
        # passes any value that is set, `false` too. The verdict follows the test.
        lambda v: True,
        "it set (the benchmark: true)",
        unset_ok=False,
        fix_value=True,
    ),
    "hostname-override": Setting(
        "4.2.7",
        "hostname-override",
        (),  # a flag only: the benchmark reads the command line, never the config file
        lambda v: False,
        "it not set",
        unset_ok=True,
    ),
    "event-qps": Setting(
        "4.2.8",
        "event-qps",
        ("eventRecordQPS",),
        # `gte 0` (kube-bench's toNumeric: an integer); unset passes (`set: false`).
        lambda v: re.fullmatch(r"[0-9]+", v.strip()) is not None,
        "0 or more (0: no limit on event capture)",
        unset_ok=True,
        fix_value=50,  # the kubelet's default (v1beta1 defaults.go EventRecordQPS)
    ),
    "tls-cert-file": Setting(
        "4.2.9",
        "tls-cert-file",
        ("tlsCertFile",),
        lambda v: bool(v.strip()),
        "the serving certificate file",
        unset_ok=False,
        together="tls-private-key-file",
    ),
    "tls-private-key-file": Setting(
        "4.2.9",
        "tls-private-key-file",
        ("tlsPrivateKeyFile",),
        lambda v: bool(v.strip()),
        "its private key file",
        unset_ok=False,
    ),
    "tls-cipher-suites": Setting(
        "4.2.12",
        "tls-cipher-suites",
        ("tlsCipherSuites",),
        # valid_elements: every listed suite is one of the benchmark's (an empty list is
        # not: allElementsValid's XOR of an empty and a non-empty list).
        lambda v: bool(_suites(v)) and set(_suites(v)) <= STRONG_CIPHERS,
        "only " + ",".join(sorted(STRONG_CIPHERS)),
        unset_ok=False,
    ),
    "protect-kernel-defaults": Setting(
        "4.2.6",
        "protect-kernel-defaults",
        ("protectKernelDefaults",),
        lambda v: v.lower() == "true",
        "true",
        unset_ok=False,
        fix_value=True,
    ),
}


def ciphers_of(choice: versions.Choice) -> frozenset[str]:
    return STRONG_CIPHERS if choice.at_least("cis-1.12") else LEGACY_CIPHERS


def setting_for(name: str, choice: versions.Choice) -> Setting:
    """SETTINGS[name] as the node's benchmark tests it (only 4.2.12 differs by version)."""
    setting = SETTINGS[name]
    if name != "tls-cipher-suites":
        return setting
    allowed = ciphers_of(choice)
    return replace(
        setting,
        good=lambda v: bool(_suites(v)) and set(_suites(v)) <= allowed,
        want="only " + ",".join(sorted(allowed)),
    )


def ca_mode_most(choice: versions.Choice) -> int:
    """4.1.7's bitmask: 600 in cis-1.7 to cis-1.10, 644 from cis-1.11."""
    return 0o644 if choice.at_least("cis-1.11") else 0o600


def _suites(value: str) -> list[str]:
    # kube-bench's splitAndRemoveLastSeparator: trailing commas dropped, items trimmed.
    cleaned = value.strip().rstrip(",")
    return [s.strip() for s in cleaned.split(",")] if cleaned else []


def proxy_metrics_problem(proxy: Process | None, config: FileRead | None) -> str | None:
    """4.3.1: kube-proxy's metrics bound to localhost. The running kube-proxy's
    --metrics-bind-address, else metricsBindAddress in $proxykubeconfig; passes when the
    value has 127.0.0.1 or neither sets one (kube-proxy's default is 127.0.0.1:10249)."""
    if proxy is not None:
        where = f"the running kube-proxy (pid {proxy.pid})"
        flags = units.parse_flags([units.Word(a, where) for a in proxy.args])
        flag = flags.get("metrics-bind-address")
        if flag is not None:
            if "127.0.0.1" in flag.value:
                return None
            return f"flag --metrics-bind-address={flag.value} of {where}; want 127.0.0.1"
    if config is not None and config.exists:
        for line in config.text.splitlines():
            _, sep, value = line.partition("metricsBindAddress:")
            value = value.strip().strip("\"'")
            if sep and value and "127.0.0.1" not in value:
                return f"metricsBindAddress: {value} in {config.path}; want 127.0.0.1"
    return None


# failSwapOn: a bool flag (--fail-swap-on) and key, default true (v1beta1 defaults.go).
FAIL_SWAP_ON = Setting(
    "-", "fail-swap-on", ("failSwapOn",), lambda v: v.lower() == "false", "false", unset_ok=False
)
SWAP_BEHAVIOR = ("memorySwap", "swapBehavior")


def swap_problem(kubelet: Kubelet, swaps: Sequence[str]) -> str | None:
    """The kubelet's swap settings against the host's active swap: with failSwapOn (its
    default) and swap on, the kubelet exits at start ("running with swap on is not
    supported, please disable swap! or set --fail-swap-on flag to false", the kubelet's
    container manager); LimitedSwap is swap used on purpose, and needs failSwapOn false.
    With swap off there is nothing to cross-check (k8s.swap.off judges swap itself)."""
    if not swaps:
        return None
    fail = FAIL_SWAP_ON.find(kubelet)
    if fail.value is not None and fail.value.lower() == "false":
        return None  # swap tolerated: NoSwap keeps pods off it, LimitedSwap lets them use it
    where = fail.where if fail.value is not None else "failSwapOn is not set (default true)"
    behavior = yamlset.get(kubelet.config_data, SWAP_BEHAVIOR)
    wants = (
        f"; {'.'.join(SWAP_BEHAVIOR)} {behavior} in {kubelet.origin(SWAP_BEHAVIOR)} asks for "
        "swap, which also needs failSwapOn: false"
        if behavior == "LimitedSwap"
        else ""
    )
    return (
        f"swap is on ({', '.join(swaps)}) and {where}: the kubelet will not start{wants}. "
        "Turn swap off, or set failSwapOn: false if swap is meant (with memorySwap."
        "swapBehavior: LimitedSwap to let pods use it)"
    )


def kernel_defaults_problem(conn: Connection) -> str | None:
    """The kernel tunables that differ from what protectKernelDefaults requires."""
    wrong = []
    for key, want in KERNEL_DEFAULTS.items():
        res = conn.read("sysctl -n %s", key)
        have = res.stdout.strip() if res.ok else "unknown"
        if have != want:
            wrong.append(f"{key} is {have}, want {want}")
    return "; ".join(wrong) or None


# -- fixes ------------------------------------------------------------------------------


# Config files an installer writes again, so that a change made only there is undone.
REGENERATED = {
    # cmd/kubeadm/app/phases/upgrade/postupgrade.go: `kubeadm upgrade node` writes the
    # kubelet's config.yaml again from the cluster's kubelet-config ConfigMap.
    "/var/lib/kubelet/config.yaml": (
        "`kubeadm upgrade` writes it again from the cluster's kubelet-config ConfigMap: "
        "make the same change there (kubectl -n kube-system edit cm kubelet-config)"
    ),
    # kubespray roles/kubernetes/node/tasks/kubelet.yml templates it on every run.
    "/etc/kubernetes/kubelet-config.yaml": (
        "kubespray templates it again on its next run: set the same in the inventory "
        "(kubelet_config_extra_args)"
    ),
}
DROPIN_NAME = "99-hostkit.conf"  # sorts after the drop-ins an installer names 10- to 90-
_DROPIN_HEAD = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"


@dataclass(frozen=True)
class Plan:
    """Where a setting fix writes (path, its new text) and what the operator should know."""

    path: str
    text: str
    note: str = ""
    mode: str | None = None  # for a drop-in it creates; a file's own mode is kept


def regenerated_note(path: str) -> str:
    why = REGENERATED.get(path)
    if why is None:
        return ""
    return f"{path} is regenerated: {why}, or give the kubelet a --config-dir drop-in"


def plan_setting(kubelet: Kubelet, name: str, value: bool | int | str | None = None) -> Plan | None:
    """Where and how to set one setting, or None when the kubelet already has it right.
    Pure. With a --config-dir, the fix is a drop-in of its own, which no installer
    rewrites; else the config file itself, with a note where an installer rewrites it."""
    setting = SETTINGS[name]
    found = setting.find(kubelet)
    if found.by_flag and found.value is not None:
        if not setting.good(found.value):
            raise KubeletError(
                f"{found.where} overrides {kubelet.config_path}: change or remove it there "
                "by hand, then restart the kubelet"
            )
        return None
    if setting.problem(kubelet) is None:
        return None
    want = setting.fix_value if value is None else value
    if want is None:
        raise KubeletError(f"no value to set {setting.key} to")
    if kubelet.dropin_dir is not None:
        path = f"{kubelet.dropin_dir.rstrip('/')}/{DROPIN_NAME}"
        old = next((r for r, _ in kubelet.dropins if r.path == path), None)
        text = yamlset.set_scalar(old.text if old else _DROPIN_HEAD, setting.path, want)
        others = [r for r, _ in kubelet.dropins if r.path != path]
        new = FileRead(path, 0o600, "root", "root", text)
        plan = Plan(path, text, mode=None if old else "0600")
        after = build(kubelet.unit_files, {}, kubelet.config, [*others, new], kubelet.dropin_dir)
    else:
        if not kubelet.config.exists:
            raise KubeletError(
                f"{kubelet.config_path} does not exist: set {setting.key} where the kubelet "
                "takes its settings from, by hand"
            )
        text = yamlset.set_scalar(kubelet.config.text, setting.path, want)
        plan = Plan(kubelet.config_path, text, regenerated_note(kubelet.config_path))
        config = FileRead(kubelet.config.path, kubelet.config.mode, text=text)
        after = build(kubelet.unit_files, {}, config, [r for r, _ in kubelet.dropins])
    # A drop-in that sorts later (or a file merged over ours) would undo the fix.
    origin = after.origin(setting.path)
    if origin != plan.path and setting.find(after).value is not None:
        raise KubeletError(
            f"{setting.key} is set in {origin}, which the kubelet merges after {plan.path}: "
            "change it there by hand, then restart the kubelet"
        )
    return plan


def set_setting(
    target: Target, config_path: str, name: str, value: bool | int | str | None = None
) -> Change:
    """Write one setting (plan_setting says where), then restart the kubelet."""
    setting = SETTINGS[name]
    conn, dry_run = target.conn, target.dry_run
    plan = plan_setting(read(conn, config_path), name, value)
    if plan is None:
        return Change.none(f"kubelet {setting.key} already right", dry_run=dry_run)
    written = files.write_file(
        conn, plan.path, plan.text, mode=plan.mode, sudo=True, dry_run=dry_run
    )
    steps = [written]
    if written.changed:
        steps.append(services.restart_service(conn, target.facts, "kubelet", dry_run=dry_run))
    summary = f"kubelet {setting.key} in {plan.path}"
    if plan.note:
        summary += f" (note: {plan.note})"
    return combine(summary, steps, dry_run=dry_run)


_WHERE = """Where: with a --config-dir, a drop-in of its own (99-hostkit.conf), which no
installer rewrites; else the config file (its --config). kubeadm's
/var/lib/kubelet/config.yaml is written again by `kubeadm upgrade` from the
kubelet-config ConfigMap, kubespray's /etc/kubernetes/kubelet-config.yaml on its next
run: the fix's summary says so, and the same change belongs there (or give the kubelet a
--config-dir). A later drop-in or a flag that would override the value is named and left
to the operator.

Medium disruption: the kubelet restarts (a few seconds without node status and pod
lifecycle); running pods keep running."""

_NEVER = (
    "the kubelet's flags and the files that set them (a conflicting flag is left for the "
    "operator, named); other --config-dir drop-ins (one that overrides is named); the "
    "config file's other keys and comments; running pods"
)


def _setting_fix(name: str) -> Callable[..., Change]:
    @remediation(
        reboot=False, persists=True, strategy="configure", disruption="medium", never=_NEVER
    )
    def fix(target: Target, config: str) -> Change:
        return set_setting(target, config, name)

    fix.__name__ = f"set_{name.replace('-', '_')}"
    fix.__doc__ = (
        f"Set {'.'.join(SETTINGS[name].path)} for the kubelet and restart it.\n\n" + _WHERE
    )
    return fix


set_anonymous_auth = _setting_fix("anonymous-auth")
set_authorization_mode = _setting_fix("authorization-mode")
set_read_only_port = _setting_fix("read-only-port")
set_streaming_idle_timeout = _setting_fix("streaming-connection-idle-timeout")
set_make_iptables_util_chains = _setting_fix("make-iptables-util-chains")
set_rotate_certificates = _setting_fix("rotate-certificates")
set_rotate_server_certificate = _setting_fix("rotate-kubelet-server-certificate")
set_seccomp_default = _setting_fix("seccomp-default")
set_event_qps = _setting_fix("event-qps")


@remediation(reboot=False, persists=True, strategy="configure", disruption="medium", never=_NEVER)
def set_client_ca_file(target: Target, config: str, ca_file: str) -> Change:
    """Point authentication.x509.clientCAFile at the profile's CA file (which must exist:
    a kubelet with a missing CA file does not start), and restart the kubelet."""
    if not files.exists(target.conn, ca_file, sudo=True):
        raise KubeletError(f"{ca_file} does not exist: the kubelet would not start with it")
    return set_setting(target, config, "client-ca-file", ca_file)


set_client_ca_file.__doc__ = f"{set_client_ca_file.__doc__}\n\n{_WHERE}"


@remediation(reboot=False, persists=True, strategy="configure", disruption="medium", never=_NEVER)
def set_pod_pids_limit(target: Target, config: str, limit: str) -> Change:
    """Set podPidsLimit to the profile's limit and restart the kubelet; the limit applies
    to pods started from then on."""
    return set_setting(target, config, "pod-max-pids", int(limit))


set_pod_pids_limit.__doc__ = f"{set_pod_pids_limit.__doc__}\n\n{_WHERE}"


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="medium",
    never=_NEVER + "; sysctls other than the six the kubelet requires",
)
def set_protect_kernel_defaults(target: Target, config: str) -> Change:
    """Give the kernel the tunables the kubelet insists on (live and in sysctl.d), then
    set protectKernelDefaults and restart the kubelet. In that order: a kubelet that
    protects kernel defaults refuses to start while one differs.

    Medium disruption: the kubelet restarts; kernel.panic and vm.overcommit_memory change
    how the host behaves under a panic or memory pressure.
    """
    steps = [
        sysctl_fixes.kernel_defaults(target),
        set_setting(target, config, "protect-kernel-defaults"),
    ]
    return combine("kubelet protectKernelDefaults", steps, dry_run=target.dry_run)


# -- file permissions (4.1.x) -------------------------------------------------------------


def mode_problem(path: str, mode: int | None, most: int) -> str | None:
    """kube-bench's `bitmask` comparison: no permission bit outside most."""
    if mode is None:
        return f"{path} does not exist"
    if mode & ~most:
        return f"{path} has mode {mode:o}, want {most:o} or more restrictive"
    return None


def owner_problem(path: str, owner: str | None, group: str | None) -> str | None:
    if owner is None:
        return f"{path} does not exist"
    if (owner, group) != ("root", "root"):
        return f"{path} is owned by {owner}:{group}, want root:root"
    return None


def client_ca_path(kubelet: Kubelet, default: str) -> str:
    """The CA file the kubelet uses: its flag, then its config, then the profile's
    (kube-bench: the --client-ca-file of `ps`, else $kubeletcafile)."""
    found = SETTINGS["client-ca-file"].find(kubelet)
    return found.value if found.value else default


def _fix_files(target: Target, paths: Sequence[str], most: int | None) -> Change:
    """chmod (most: take away the bits outside it; a stricter mode stays) or, without
    most, chown root:root, each existing path; idempotent through the runner."""
    conn, dry_run = target.conn, target.dry_run
    reads = read_files(conn, paths)
    if not any(reads[p].exists for p in paths):
        # Nothing to restrict; the check fails (or warns) on the missing file, and making
        # one is the installer's job, not a permissions fix's.
        raise KubeletError(f"{', '.join(paths) or 'no file'} does not exist: nothing to change")
    steps = []
    for path in paths:
        info = reads[path]
        if not info.exists:
            continue
        if most is None:
            steps.append(files.chown(conn, path, "root", "root", sudo=True, dry_run=dry_run))
        else:
            mode = format(info.mode & most, "04o")  # type: ignore[operator]
            steps.append(files.chmod(conn, path, mode, sudo=True, dry_run=dry_run))
    what = "owner root:root" if most is None else f"mode {most:o} or stricter"
    note = package_note([p for p in paths if reads[p].exists])
    summary = f"{what} on {', '.join(paths)}" + (f" (note: {note})" if note else "")
    return combine(summary, steps, dry_run=dry_run)


# Where a distribution package keeps its files (the kubelet's unit, kubeadm's drop-in):
# dpkg and rpm set their mode and owner again when the package is upgraded.
_PACKAGED = ("/usr/lib/", "/lib/")


def package_note(paths: Sequence[str]) -> str:
    owned = [p for p in paths if p.startswith(_PACKAGED)]
    if not owned:
        return ""
    return (
        f"{', '.join(owned)} belong to a package, whose next upgrade sets mode and owner "
        "again: repeat this fix after upgrading the kubelet or kubeadm"
    )


_FILE_NEVER = "file content; files that do not exist (not created)"


def _mode_and_owner(
    paths_of: Callable[..., Sequence[str]], most: int, name: str, undone: str = ""
) -> tuple[Callable[..., Change], Callable[..., Change]]:
    @remediation(
        reboot=False, persists=True, strategy="restrict", disruption="low", never=_FILE_NEVER
    )
    def restrict(target: Target, **params: str) -> Change:
        return _fix_files(target, paths_of(target, **params), most)

    @remediation(
        reboot=False, persists=True, strategy="restrict", disruption="low", never=_FILE_NEVER
    )
    def own(target: Target, **params: str) -> Change:
        return _fix_files(target, paths_of(target, **params), None)

    restrict.__name__, own.__name__ = f"restrict_{name}", f"own_{name}"
    label = name.replace("_", " ")
    restrict.__doc__ = f"Take the mode of the {label} to {most:o} or stricter (bits only removed)."
    own.__doc__ = f"Give the {label} to root:root."
    if undone:
        restrict.__doc__ += f"\n\n{undone}"
        own.__doc__ += f"\n\n{undone}"
    return restrict, own


def _unit_paths(target: Target, unit: str) -> list[str]:
    return unit_files(target.conn, unit)


def _path(target: Target, path: str, presence: str = "required") -> list[str]:
    return [path]


def _config_path(target: Target, config: str) -> list[str]:
    return [read_raw(target.conn, config).config.path]


def _ca_path(target: Target, config: str, ca_file: str) -> list[str]:
    return [client_ca_path(read(target.conn, config), ca_file)]


_UNIT_UNDONE = (
    "Undone by upgrades: the kubelet's unit and kubeadm's drop-in under /usr/lib (or /lib)\n"
    "belong to the kubelet and kubeadm packages, whose next upgrade sets their mode and\n"
    "owner again (the fix's summary names them); kubespray templates its unit in\n"
    "/etc/systemd/system again on its next run. There is no drop-in for a file's mode:\n"
    "repeat the fix after an upgrade."
)
_CONFIG_UNDONE = (
    "Undone by upgrades: `kubeadm upgrade` writes /var/lib/kubelet/config.yaml again and\n"
    "kubespray its /etc/kubernetes/kubelet-config.yaml (each with the mode its tool gives)."
)
restrict_unit_files, own_unit_files = _mode_and_owner(
    _unit_paths, 0o600, "kubelet_unit_files", _UNIT_UNDONE
)
restrict_kubeconfig, own_kubeconfig = _mode_and_owner(_path, 0o600, "kubeconfig")
restrict_config, own_config = _mode_and_owner(
    _config_path, 0o600, "kubelet_config_file", _CONFIG_UNDONE
)
_, own_client_ca = _mode_and_owner(_ca_path, 0o644, "client_ca_file")


@remediation(reboot=False, persists=True, strategy="restrict", disruption="low", never=_FILE_NEVER)
def restrict_client_ca(target: Target, config: str, ca_file: str) -> Change:
    """Take the mode of the client CA file to what the node's benchmark wants (644 from
    cis-1.11, 600 before; bits only removed)."""
    most = ca_mode_most(versions.choose_for(target.facts))
    return _fix_files(target, _ca_path(target, config, ca_file), most)
