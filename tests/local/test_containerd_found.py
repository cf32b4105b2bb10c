"""containerd found as installers leave it, by the real detection script on this machine.

kubespray and kubekey unpack containerd's release into /usr/local/bin, with no package;
Docker's repository ships it as containerd.io; Debian as containerd. A fix that looked
only for the distribution's package name installed a second containerd beside the first
(or, through apt's Conflicts, removed Docker's). Stand-in executables live under the test's
temporary directory; the package owner is asked of dpkg for a file dpkg really owns.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from hostkit_catalog.remediations import runtime
from kit.catalog.remediation import Target
from kit.connection.planning import PlanningConnection
from kit.facts import parse_facts
from kit.facts.commands import SYSTEMD
from tests.local.recording import RecordingConnection

DEBIAN12 = Path(__file__).parent.parent / "unit" / "data" / "facts" / "debian12.txt"

pytestmark = pytest.mark.skipif(
    shutil.which("containerd") is not None, reason="this machine has a containerd of its own"
)


def _stand_in(directory: Path, name: str = "containerd") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    exe = directory / name
    exe.write_text("#!/bin/sh\nexit 0\n")
    exe.chmod(0o755)
    return exe


def test_a_binary_install_outside_the_path_is_found_with_no_package(tmp_path):
    exe = _stand_in(tmp_path / "usr-local-bin")
    found = runtime.find_containerd(RecordingConnection(), dirs=(str(exe.parent),))
    assert found.binary == str(exe)
    assert found.package is None
    assert found.describe() == f"{exe} (not from a package: a binary install)"


def test_the_owning_package_is_named():
    found = runtime._find(RecordingConnection(), "dpkg", ("/nonexistent",))
    assert found.binary == "/usr/bin/dpkg"
    assert found.package == "dpkg"
    assert found.describe() == "/usr/bin/dpkg from package dpkg"


def test_nothing_found_is_nothing():
    found = runtime.find_containerd(RecordingConnection(), dirs=("/nonexistent",))
    assert not found.found


def test_the_fix_installs_no_package_where_containerd_is_already_there(tmp_path):
    exe = _stand_in(tmp_path / "bin")
    conn = RecordingConnection(path_prefix=str(exe.parent))
    facts = parse_facts(DEBIAN12.read_text())
    facts = dataclasses.replace(facts, hostname="node", init_system=SYSTEMD)
    target = Target(PlanningConnection(conn), facts, dry_run=True)
    plan = runtime.install_containerd(target)
    assert not [c for c in conn.sent if "apt-get" in c or "dpkg-query -W" in c]
    assert plan.summary == "containerd: containerd enabled; containerd started"
    kept = runtime._install(target)
    assert not kept.changed
    assert (
        kept.summary
        == f"containerd already installed: {exe} (not from a package: a binary install)"
    )
