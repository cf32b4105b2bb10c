"""Executables a node needs, brought by the package that ships them."""

from __future__ import annotations

from kit.remediation import Target, remediation
from kit.runner import packages
from kit.runner.change import Change


@remediation(reboot=False, strategy="install", disruption="low")
def install_for_executable(target: Target, executable: str, package: str) -> Change:
    return packages.install_packages(target.conn, target.facts, package, dry_run=target.dry_run)
