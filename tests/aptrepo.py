"""A local apt repository of tiny .deb files and a private apt root that uses it: what the
package tests install from with the real apt-get and dpkg, leaving this machine's own
packages unread and unchanged (the root has its own lists, dpkg database and install
directory)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

CONTROL = (
    "Package: {}\nVersion: 1.0\nArchitecture: all\n"
    "Maintainer: hostkit tests <t@example.invalid>\nDescription: hostkit test package\n"
)
_DIRS = (
    "etc/apt/preferences.d",
    "etc/apt/sources.list.d",
    "etc/apt/trusted.gpg.d",
    "var/lib/apt/lists/partial",
    "var/cache/apt/archives/partial",
    "var/log/apt",
    "dpkg/info",
    "dpkg/updates",
    "inst",
)


def build(tmp: Path, packages: Mapping[str, str], installed: Iterable[str] = ()) -> Path:
    """The private root (returned) of a repository of packages (name: extra control
    lines), whose dpkg status lists the installed ones as installed."""
    repo, root = tmp / "repo", tmp / "root"
    for d in _DIRS:
        (root / d).mkdir(parents=True)
    repo.mkdir()
    installed = set(installed)
    status = []
    for name, extra in packages.items():
        debian = tmp / "build" / name / "DEBIAN"
        debian.mkdir(parents=True)
        control = CONTROL.format(name) + extra
        (debian / "control").write_text(control)
        subprocess.run(
            ["dpkg-deb", "-Zxz", "--build", str(debian.parent), str(repo)],
            check=True,
            capture_output=True,
        )
        if name in installed:
            status.append(control.replace("Version:", "Status: install ok installed\nVersion:"))
    index = subprocess.run(
        ["dpkg-scanpackages", "--multiversion", "."],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    (repo / "Packages").write_text(index)
    (root / "dpkg" / "status").write_text("".join(s + "\n" for s in status))
    (root / "etc/apt/sources.list").write_text(f"deb [trusted=yes] file:{repo} ./\n")
    return root
