"""An install that would remove an installed package is refused, proven with real packages.

Four tiny .deb files built here with dpkg-deb stand for Debian's containerd, Docker's
containerd.io (Provides, Conflicts and Replaces containerd) and docker-ce (Depends on
containerd.io), and an unrelated tool. They sit in a local `file:` repository that apt
reads through a private root (`-o Dir=...`, its own dpkg status file), so the real apt-get
resolves the real packages while nothing of this machine's apt or dpkg state is read or
written (apt's dpkg is /bin/false, so even an install that went ahead could not reach this
machine's packages): the runner's own command templates run, with those options added.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from kit.errors import FixRefused
from kit.facts import PackageManager, gather_facts
from kit.facts.commands import PACKAGE_MANAGERS
from kit.runner import packages
from tests import aptrepo
from tests.local.recording import RecordingConnection

TOOLS = ("dpkg-deb", "dpkg-scanpackages", "apt-get")
pytestmark = pytest.mark.skipif(
    not all(map(shutil.which, TOOLS)), reason="needs dpkg-deb, dpkg-scanpackages and apt-get"
)

PACKAGES = {
    "hk-containerd": "",
    "hk-containerd-io": (
        "Provides: hk-containerd\nConflicts: hk-containerd\nReplaces: hk-containerd\n"
    ),
    "hk-docker-ce": "Depends: hk-containerd-io\n",
    "hk-tool": "",
    "hk-rival": "Conflicts: hk-docker-ce\n",
}
INSTALLED = ("hk-containerd-io", "hk-docker-ce")


def build(tmp: Path) -> Path:
    """The repository, a private apt root, and a dpkg status listing INSTALLED."""
    return aptrepo.build(tmp, PACKAGES, INSTALLED)


@pytest.fixture
def apt_root(tmp_path):
    return build(tmp_path)


@pytest.fixture
def facts(apt_root):
    """This machine's facts with the runner's apt templates pointed at the private root."""
    facts = gather_facts(RecordingConnection())
    return dataclasses.replace(facts, package_manager=private_manager(apt_root))


def private_manager(apt_root: Path) -> PackageManager:
    """The runner's apt templates, pointed at the private root."""
    # dpkg itself is /bin/false: an install the runner failed to refuse stops there and
    # never reaches this machine's dpkg database.
    opts = (
        f"-o Dir={apt_root} -o Dir::State::status={apt_root}/dpkg/status "
        "-o Dir::Etc::trusted=/dev/null "
        f"-o Dir::Etc::trustedparts={apt_root}/etc/apt/trusted.gpg.d "
        "-o Dir::Bin::dpkg=/bin/false"
    )
    real = PACKAGE_MANAGERS["apt"]
    return dataclasses.replace(
        real,
        **{
            f.name: getattr(real, f.name)
            .replace("apt-get ", f"apt-get {opts} ")
            .replace("dpkg-query ", f"dpkg-query --admindir={apt_root}/dpkg ")
            for f in dataclasses.fields(real)
            if f.name != "type"
        },
    )


def _status(root: Path) -> str:
    return (root / "dpkg" / "status").read_text()


@pytest.mark.parametrize("dry_run", [False, True], ids=["fix", "plan"])
def test_install_that_would_remove_installed_packages_is_refused(apt_root, facts, dry_run):
    conn = RecordingConnection()
    before = _status(apt_root)
    packages.update_package_cache(conn, facts, max_age=0)
    with pytest.raises(FixRefused) as refused:
        packages.install_packages(conn, facts, "hk-containerd", dry_run=dry_run)
    assert str(refused.value) == (
        "installing hk-containerd would remove the installed packages hk-docker-ce, "
        "hk-containerd-io (apt-get -s says so): install it by hand if that is wanted"
    )
    assert _status(apt_root) == before
    assert not [c for c in conn.sent if "install -y" in c], "the install itself ran"


def test_install_that_removes_nothing_goes_ahead(apt_root, facts):
    conn = RecordingConnection()
    packages.update_package_cache(conn, facts, max_age=0)
    change = packages.install_packages(conn, facts, "hk-tool", dry_run=True)
    assert change.changed and change.summary == "installed hk-tool"
    assert [c for c in conn.sent if "apt-get" in c and " -s " in c], "no simulation was asked"


def test_stale_lists_are_refreshed_before_the_simulation(apt_root, facts):
    # Lists never fetched: apt cannot locate the package until it refreshes them once.
    conn = RecordingConnection()
    with pytest.raises(FixRefused) as refused:
        packages.install_packages(conn, facts, "hk-rival")
    assert str(refused.value).startswith(
        "installing hk-rival would remove the installed package hk-docker-ce (apt-get -s"
    )
    assert [c for c in conn.sent if "apt-get" in c and c.endswith("update -q")]
