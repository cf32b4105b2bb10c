"""The container runtime (containerd) and the kubelet unit.

Every containerd fix brings the whole chain it depends on: the package, a config file
(containerd's own default where there is none), the setting, and a running, enabled
service restarted when its config changed. A fix that set a key in a file nobody reads
would leave the check failing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hostkit_catalog.remediations import kubelet
from kit.catalog.remediation import DISRUPTIONS, Target, remediation
from kit.connection import Connection, quote
from kit.edits import containerd, decode, encode
from kit.errors import FixRefused
from kit.facts import Facts
from kit.runner import files, packages, services
from kit.runner.change import Change, combine

SERVICE = "containerd"
# kubeadm's kubelet config; the kubelet's own --config, where its unit sets one, wins.
KUBELET_CONFIG = "/var/lib/kubelet/config.yaml"
# The process name (comm, 15 characters) of containerd's shims, one per running pod or
# container: containerd-shim-runc-v2 and the older containerd-shim.
SHIM = "containerd-shim"
# The package that ships containerd, by os-release family. Debian and Ubuntu ship their
# own; Rocky and RHEL have none in their repositories, and Docker's CE repository, which
# the installers add there, calls it containerd.io.
PACKAGES = {"debian": "containerd", "rhel": "containerd.io"}

_NEVER = "containers and images; other settings in config.toml, its comments and layout"


# Where installers put containerd when no package does: kubespray and kubekey unpack the
# release tarball into /usr/local/bin (kubespray's bin_dir), Flatcar-like hosts use /opt/bin.
BINARY_DIRS = ("/usr/local/bin", "/usr/bin", "/opt/bin")


def package_for(facts: Facts) -> str | None:
    return PACKAGES.get(facts.os.family)


@dataclass(frozen=True)
class Installation:
    """A program as the host has it: its executable, the package that owns it (None: not
    from a package), and its systemd unit file where systemd has one loaded."""

    binary: str | None = None
    package: str | None = None
    unit: str | None = None

    @property
    def found(self) -> bool:
        return self.binary is not None or self.unit is not None

    def describe(self) -> str:
        if self.binary is None:
            return f"its unit {self.unit}" if self.unit else "nothing"
        if self.package is None:
            return f"{self.binary} (not from a package: a binary install)"
        return f"{self.binary} from package {self.package}"


def find_containerd(conn: Connection, dirs: tuple[str, ...] = BINARY_DIRS) -> Installation:
    """containerd by its binary (on the PATH, else in the installers' directories), the
    package owning it, and containerd.service: one read."""
    return _find(conn, SERVICE, dirs)


def _find(conn: Connection, name: str, dirs: tuple[str, ...]) -> Installation:
    exe = quote(name)
    candidates = " ".join(quote(f"{d.rstrip('/')}/{name}") for d in dirs)
    script = (
        f"f=$(command -v {exe} 2>/dev/null); case $f in /*) ;; *) f=; esac; "
        f'for c in {candidates}; do [ -n "$f" ] && break; [ -x "$c" ] && f=$c; done; '
        'if [ -n "$f" ]; then echo "binary=$f"; '
        "if command -v dpkg-query >/dev/null 2>&1; then "
        'o=$(dpkg-query -S -- "$f" 2>/dev/null | head -n 1); echo "package=${o%%:*}"; '
        "elif command -v rpm >/dev/null 2>&1; then "
        "rpm -qf --qf 'package=%{NAME}\n' -- \"$f\" 2>/dev/null | grep '^package='; fi; fi; "
        "[ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1 && "
        f"systemctl show -p LoadState -p FragmentPath -- {quote(name + '.service')} 2>/dev/null"
    )
    return parse_installation(conn.read(script).stdout)


def parse_installation(text: str) -> Installation:
    """_find's answer: binary=, package= (empty: no package owns it), and systemctl show's
    LoadState= and FragmentPath= of the unit."""
    values = dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)
    loaded = values.get("LoadState") == "loaded" and values.get("FragmentPath")
    return Installation(
        binary=values.get("binary") or None,
        package=values.get("package") or None,
        unit=values["FragmentPath"] if loaded else None,
    )


def read_config(conn: Connection) -> containerd.Config:
    """config.toml (read as root: it may hold registry credentials) over the defaults of
    the containerd installed, which fill in every key the file leaves out."""
    content, _ = files.stat_and_read(conn, containerd.CONFIG, sudo=True)
    defaults = conn.read("containerd config default")
    return containerd.effective(
        decode(content) if content is not None else None,
        defaults.stdout if defaults.ok else None,
    )


@remediation(
    reboot=False,
    persists=True,
    strategy="install",
    disruption="low",
    never=_NEVER,
    installs=True,
)
def install_containerd(target: Target) -> Change:
    """Install containerd (containerd.io on the RHEL family, from Docker's repository,
    which must be configured), enabled and running; a containerd already there, from any
    package or a binary install, is kept and no package is installed."""
    return combine(
        "containerd", [_install(target), *_running(target, False)], dry_run=target.dry_run
    )


@remediation(
    reboot=False,
    persists=True,
    strategy="enable",
    disruption="low",
    never=_NEVER,
    installs=True,
)
def start_containerd(target: Target) -> Change:
    """Enable containerd and start it, installing it first where it is missing."""
    return combine(
        "containerd", [_install(target), *_running(target, False)], dry_run=target.dry_run
    )


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="medium",
    never=_NEVER,
    installs=True,
)
def enable_cri(target: Target, socket: str) -> Change:
    """Take the CRI plugin out of config.toml's disabled_plugins (Docker's containerd.io
    disables it), then restart containerd so that it serves the CRI.

    Medium disruption, as every fix that restarts containerd: the CRI does not answer while
    it restarts. Where containers run (containerd-shim processes) the restart is high and
    needs --max-disruption=high: their shims stay up, but their CRI, exec and log streams
    are cut meanwhile.
    """
    return _configure(target, "CRI plugin enabled", lambda text, _: containerd.enable_cri(text))


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="medium",
    never=_NEVER,
    installs=True,
)
def systemd_cgroup(target: Target, kubelet_config: str = KUBELET_CONFIG) -> Change:
    """Set `SystemdCgroup = true` for the runc runtime, where the file's config version
    keeps it, and restart containerd (medium disruption: the CRI does not answer while it
    restarts; high where containers run). Only where the kubelet uses the systemd driver
    too, or is not configured yet (kubeadm writes systemd): a kubelet on cgroupfs is
    refused by name, since changing containerd alone breaks its new pods, and changing a
    joined node's kubelet driver wants the node drained first."""
    driver = kubelet_cgroup_driver(target.conn, kubelet_config)
    if driver.driver not in (None, "systemd"):
        raise FixRefused(
            f"the kubelet uses the {driver.driver} cgroup driver ({driver.where}): "
            "containerd's runc alone on systemd would break its new pods; change both "
            "together by hand: drain the node, set cgroupDriver: systemd there and "
            f"SystemdCgroup = true in {containerd.CONFIG}, restart containerd and the kubelet"
        )
    return _configure(
        target,
        "runc uses the systemd cgroup driver",
        lambda text, ver: containerd.set_value(
            text, containerd.SYSTEMD_CGROUP, True, default_version=ver
        ),
    )


@dataclass(frozen=True)
class KubeletDriver:
    """The kubelet's cgroup driver (None: the kubelet is not configured yet) and where it
    comes from."""

    driver: str | None
    where: str


def kubelet_cgroup_driver(conn: Connection, config_path: str = KUBELET_CONFIG) -> KubeletDriver:
    return driver_of(kubelet.read(conn, config_path))


def driver_of(found: kubelet.Kubelet) -> KubeletDriver:
    """--cgroup-driver, else the config file's cgroupDriver, else the kubelet's own default,
    cgroupfs (pkg/kubelet/apis/config/v1beta1/defaults.go). kubeadm writes systemd into
    the config since 1.22 where its own configuration leaves it unset
    (cmd/kubeadm/app/componentconfigs/kubelet.go Default)."""
    flag = found.flags.get("cgroup-driver")
    if flag is not None:
        return KubeletDriver(flag.value, f"flag --cgroup-driver={flag.value} in {flag.origin}")
    path = found.config_path
    if not found.config.exists:
        return KubeletDriver(None, f"{path} does not exist: the kubelet is not configured yet")
    value = found.config_data.get("cgroupDriver")
    if value:
        return KubeletDriver(str(value), f"cgroupDriver: {value} in {path}")
    return KubeletDriver(
        "cgroupfs", f"{path} sets no cgroupDriver: the kubelet's default, cgroupfs"
    )


@remediation(
    reboot=False,
    persists=True,
    strategy="configure",
    disruption="medium",
    never=_NEVER,
    installs=True,
)
def sandbox_image(target: Target, image: str) -> Change:
    """Set the sandbox (pause) image the profile names, where the file's config version
    keeps it, and restart containerd (medium disruption: the CRI does not answer while it
    restarts; high where containers run)."""
    return _configure(
        target,
        f"sandbox image {image}",
        lambda text, ver: containerd.set_value(
            text, containerd.SANDBOX_IMAGE, image, default_version=ver
        ),
    )


def _install(target: Target) -> Change:
    """containerd's package, unless a containerd is there already, from whichever package
    or installer: Docker's containerd.io conflicts with Debian's containerd, and a second
    containerd beside a binary install would fight it for its socket and unit. The runner
    refuses an install that would remove an installed package."""
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    package = package_for(facts)
    # Installed by this run with other fixes' packages (kit.plugin.fixpackages): said so.
    together = packages.installed_together(conn, package, dry_run=dry_run) if package else None
    if together is not None:
        return combine(f"containerd from {package}", [together], dry_run=dry_run)
    found = find_containerd(conn)
    if found.found:
        return Change.none(f"containerd already installed: {found.describe()}", dry_run=dry_run)
    if package is None:
        raise FixRefused(f"no containerd package known for OS family {facts.os.family}")
    cache = packages.update_package_cache(conn, facts, max_age=24 * 3600, dry_run=dry_run)
    installed = packages.install_packages(conn, facts, package, dry_run=dry_run)
    return combine(f"containerd from {package}", [cache, installed], dry_run=dry_run)


def _running(target: Target, config_changed: bool) -> list[Change]:
    """Enabled, and running the config as it now is."""
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    steps = [services.enable_service(conn, facts, SERVICE, dry_run=dry_run)]
    if config_changed and services.is_service_active(conn, facts, SERVICE):
        steps.append(services.restart_service(conn, facts, SERVICE, dry_run=dry_run))
    else:
        steps.append(services.start_service(conn, facts, SERVICE, dry_run=dry_run))
    return steps


def _configure(target: Target, what: str, edit: Callable[[str, int], str]) -> Change:
    """Apply edit(text, the installed containerd's config version) to config.toml, which
    starts as `containerd config default` where there is none."""
    conn, dry_run = target.conn, target.dry_run
    installed = _install(target)
    if installed.changed and dry_run:
        # Nothing to read the defaults from before the package is there.
        planned = Change.made(
            f"{containerd.CONFIG}: {what} (over `containerd config default`)", dry_run=True
        )
        return combine(what, [installed, planned], dry_run=True)
    defaults = conn.read("containerd config default").check().stdout
    default_version = containerd.version(
        containerd.parse(defaults, source="containerd config default")
    )
    content, _ = files.stat_and_read(conn, containerd.CONFIG, sudo=True)
    text = defaults if content is None else decode(content)
    new = edit(text, default_version)
    if (new != text or content is None) and services.is_service_active(conn, target.facts, SERVICE):
        _refuse_restart_under_containers(target)
    if content is None:
        files.mkdirp(conn, "/etc/containerd", sudo=True, dry_run=dry_run)
    written = files.write_file(
        conn,
        containerd.CONFIG,
        encode(new),
        mode="0644" if content is None else None,
        sudo=True,
        dry_run=dry_run,
    )
    return combine(what, [installed, written, *_running(target, written.changed)], dry_run=dry_run)


def running_containers(conn: Connection) -> int:
    """How many containerd shims run: each keeps a pod's or a container's processes."""
    out = conn.read("grep -lx -- %s /proc/[0-9]*/comm 2>/dev/null", SHIM).stdout
    return len(out.splitlines())


def _refuse_restart_under_containers(target: Target) -> None:
    """Restarting containerd where containers run is high disruption (issue 23): their
    shims survive, but every CRI call and exec, log and attach stream fails meanwhile."""
    if DISRUPTIONS.index(target.max_disruption) >= DISRUPTIONS.index("high"):
        return
    count = running_containers(target.conn)
    if count:
        raise FixRefused(
            f"fix needs --max-disruption=high: restarting containerd with running containers "
            f"({count} containerd-shim processes) cuts their CRI, exec and log streams while "
            "it restarts"
        )


# -- kubelet -----------------------------------------------------------------------------


def kubelet_unit_state(conn: Connection) -> tuple[str, str]:
    """(LoadState, UnitFileState) of kubelet.service: ("not-found", "") when there is none."""
    out = conn.read("systemctl show -p LoadState -p UnitFileState -- kubelet.service").stdout
    props = dict(line.partition("=")[::2] for line in out.splitlines() if "=" in line)
    return props.get("LoadState", ""), props.get("UnitFileState", "")


@remediation(
    reboot=False,
    persists=True,
    strategy="enable",
    disruption="low",
    never="the kubelet package: installing it needs the Kubernetes package repository",
)
def enable_kubelet(target: Target) -> Change:
    """Enable kubelet.service, as kubeadm's ServiceCheck asks; a missing unit is left to
    install by hand. It is not started: kubeadm init or join starts it once its config
    exists."""
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    load, _ = kubelet_unit_state(conn)
    if load != "loaded":
        # Nothing to enable: the check keeps failing, and says so.
        return Change.none(
            "kubelet.service does not exist: install kubelet from the Kubernetes package "
            "repository by hand",
            dry_run=dry_run,
        )
    return services.enable_service(conn, facts, "kubelet", dry_run=dry_run)
