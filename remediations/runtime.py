"""The container runtime (containerd) and the kubelet unit.

Every containerd fix brings the whole chain it depends on: the package, a config file
(containerd's own default where there is none), the setting, and a running, enabled
service restarted when its config changed. A fix that set a key in a file nobody reads
would leave the check failing.
"""

from __future__ import annotations

from collections.abc import Callable

from kit.catalog.remediation import Target, remediation
from kit.connection import Connection
from kit.edits import containerd, decode, encode
from kit.errors import FixRefused
from kit.facts import Facts
from kit.runner import files, packages, services
from kit.runner.change import Change, combine

SERVICE = "containerd"
# The package that ships containerd, by os-release family. Debian and Ubuntu ship their
# own; Rocky and RHEL have none in their repositories, and Docker's CE repository, which
# the installers add there, calls it containerd.io.
PACKAGES = {"debian": "containerd", "rhel": "containerd.io"}

_NEVER = "containers and images; other settings in config.toml, its comments and layout"


def package_for(facts: Facts) -> str | None:
    return PACKAGES.get(facts.os.family)


def read_config(conn: Connection) -> containerd.Config:
    """config.toml (read as root: it may hold registry credentials) over the defaults of
    the containerd installed, which fill in every key the file leaves out."""
    content, _ = files.stat_and_read(conn, containerd.CONFIG, sudo=True)
    defaults = conn.read("containerd config default")
    return containerd.effective(
        decode(content) if content is not None else None,
        defaults.stdout if defaults.ok else None,
    )


@remediation(reboot=False, persists=True, strategy="install", disruption="low", never=_NEVER)
def install_containerd(target: Target) -> Change:
    """Install containerd (containerd.io on the RHEL family, from Docker's repository,
    which must be configured), enabled and running."""
    return combine(
        "containerd", [_install(target), *_running(target, False)], dry_run=target.dry_run
    )


@remediation(reboot=False, persists=True, strategy="enable", disruption="low", never=_NEVER)
def start_containerd(target: Target) -> Change:
    """Enable containerd and start it, installing it first where it is missing."""
    return combine(
        "containerd", [_install(target), *_running(target, False)], dry_run=target.dry_run
    )


@remediation(reboot=False, persists=True, strategy="configure", disruption="medium", never=_NEVER)
def enable_cri(target: Target, socket: str) -> Change:
    """Take the CRI plugin out of config.toml's disabled_plugins (Docker's containerd.io
    disables it), then restart containerd so that it serves the CRI.

    Medium disruption, as every fix that restarts containerd: running containers keep
    running (their shims stay up), but the CRI does not answer while it restarts.
    """
    return _configure(target, "CRI plugin enabled", lambda text, _: containerd.enable_cri(text))


@remediation(reboot=False, persists=True, strategy="configure", disruption="medium", never=_NEVER)
def systemd_cgroup(target: Target) -> Change:
    """Set `SystemdCgroup = true` for the runc runtime, where the file's config version
    keeps it, and restart containerd (medium
    disruption: the CRI does not answer while it restarts)."""
    return _configure(
        target,
        "runc uses the systemd cgroup driver",
        lambda text, ver: containerd.set_value(
            text, containerd.SYSTEMD_CGROUP, True, default_version=ver
        ),
    )


@remediation(reboot=False, persists=True, strategy="configure", disruption="medium", never=_NEVER)
def sandbox_image(target: Target, image: str) -> Change:
    """Set the sandbox (pause) image the profile names, where the file's config version
    keeps it, and restart containerd (medium
    disruption: the CRI does not answer while it restarts)."""
    return _configure(
        target,
        f"sandbox image {image}",
        lambda text, ver: containerd.set_value(
            text, containerd.SANDBOX_IMAGE, image, default_version=ver
        ),
    )


def _install(target: Target) -> Change:
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    package = package_for(facts)
    if package is None:
        raise FixRefused(f"no containerd package known for OS family {facts.os.family}")
    if packages.is_package_installed(conn, facts, package):
        return Change.none(f"{package} already installed", dry_run=dry_run)
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
    if content is None:
        text = defaults
        files.mkdirp(conn, "/etc/containerd", sudo=True, dry_run=dry_run)
    else:
        text = decode(content)
    written = files.write_file(
        conn,
        containerd.CONFIG,
        encode(edit(text, default_version)),
        mode="0644" if content is None else None,
        sudo=True,
        dry_run=dry_run,
    )
    return combine(what, [installed, written, *_running(target, written.changed)], dry_run=dry_run)


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
