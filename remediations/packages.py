"""Executables a node needs, brought by the package that ships them."""

from __future__ import annotations

from kit.catalog.remediation import Target, remediation
from kit.errors import FixRefused
from kit.facts import Facts
from kit.runner import packages
from kit.runner.change import Change, combine

# The package that ships each executable kubeadm looks for (checks_linux.go
# addExecChecks), by os-release family: "debian" covers Debian and Ubuntu, whose names
# agree; "rhel" covers Rocky, Alma and RHEL 9 (iptables and ebtables are the nft
# variants there).
PACKAGES: dict[str, dict[str, str]] = {
    "ip": {"debian": "iproute2", "rhel": "iproute"},
    "tc": {"debian": "iproute2", "rhel": "iproute-tc"},
    "iptables": {"debian": "iptables", "rhel": "iptables-nft"},
    "ebtables": {"debian": "ebtables", "rhel": "iptables-ebtables"},
    "mount": {"debian": "mount", "rhel": "util-linux"},
    "nsenter": {"debian": "util-linux", "rhel": "util-linux"},
    "ethtool": {"debian": "ethtool", "rhel": "ethtool"},
    "socat": {"debian": "socat", "rhel": "socat"},
    "touch": {"debian": "coreutils", "rhel": "coreutils"},
    "conntrack": {"debian": "conntrack", "rhel": "conntrack-tools"},
}


def package_for(executable: str, facts: Facts) -> str | None:
    """The package that ships executable on this host's family, or None when unknown."""
    return PACKAGES.get(executable, {}).get(facts.os.family)


_NEVER = "installed packages: it never removes one"


@remediation(
    reboot=False,
    persists=True,
    strategy="install",
    disruption="low",
    never=_NEVER,
    installs=True,
)
def install_for_executable(target: Target, executable: str) -> Change:
    """Install the package that ships the executable on this host's family (refreshing
    stale package lists first)."""
    return _install(target, executable)


@remediation(
    reboot=False,
    persists=True,
    strategy="install",
    disruption="low",
    never=_NEVER,
    installs=True,
)
def install_conntrack(target: Target, version: str) -> Change:
    """Install conntrack (conntrack-tools on the RHEL family)."""
    return _install(target, "conntrack")


def _install(target: Target, executable: str) -> Change:
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    package = package_for(executable, facts)
    if package is None:
        raise FixRefused(
            f"no package known to ship {executable} on OS family {facts.os.family}: "
            "install it by hand"
        )
    # Installed by this run with other fixes' packages (kit.plugin.fixpackages): said so.
    together = packages.installed_together(conn, package, dry_run=dry_run)
    if together is not None:
        return combine(f"{executable} from {package}", [together], dry_run=dry_run)
    if packages.is_package_installed(conn, facts, package):
        return Change.none(f"{package} already installed", dry_run=dry_run)
    # A host whose package lists were never fetched cannot install anything.
    cache = packages.update_package_cache(conn, facts, max_age=24 * 3600, dry_run=dry_run)
    installed = packages.install_packages(conn, facts, package, dry_run=dry_run)
    return combine(f"{executable} from {package}", [cache, installed], dry_run=dry_run)
