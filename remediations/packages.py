"""Executables a node needs, brought by the package that ships them."""

from __future__ import annotations

from kit.remediation import Target, remediation
from kit.runner import packages
from kit.runner.change import Change, combine


@remediation(
    reboot=False,
    strategy="install",
    disruption="low",
    never="installed packages: it never removes one",
)
def install_for_executable(target: Target, executable: str, package: str) -> Change:
    """Install the package that ships the executable (refreshing stale package lists first)."""
    conn, facts, dry_run = target.conn, target.facts, target.dry_run
    if packages.is_package_installed(conn, facts, package):
        return Change.none(f"{package} already installed", dry_run=dry_run)
    # A host whose package lists were never fetched cannot install anything.
    cache = packages.update_package_cache(conn, facts, max_age=24 * 3600, dry_run=dry_run)
    installed = packages.install_packages(conn, facts, package, dry_run=dry_run)
    return combine(f"{executable} from {package}", [cache, installed], dry_run=dry_run)
