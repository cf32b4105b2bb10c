"""Packages on this machine: reads, dry runs and already-compliant calls only."""

from __future__ import annotations

import dataclasses

import pytest

from kit.errors import FactUnknown, KitValueError
from kit.facts import PackageManager, gather_facts
from kit.runner import packages
from tests.local.recording import RecordingConnection


@pytest.fixture(scope="module")
def facts():
    f = gather_facts(RecordingConnection())
    if f.package_manager.type != "apt":
        pytest.skip("these local tests read dpkg's database")
    return f


@pytest.fixture
def conn():
    return RecordingConnection()


MISSING = "hostkit-no-such-package"


def test_is_package_installed(conn, facts):
    assert packages.is_package_installed(conn, facts, "dpkg")
    assert not packages.is_package_installed(conn, facts, MISSING)


def test_install_of_installed_packages_sends_no_write(conn, facts):
    change = packages.install_packages(conn, facts, "dpkg", "coreutils")
    assert not change.changed
    assert not conn.sent_any("apt-get install")
    assert len(conn.sent) == 1  # one round trip asks about every package


def test_install_dry_run_names_only_the_missing_package(conn, facts):
    change = packages.install_packages(conn, facts, "dpkg", MISSING, dry_run=True)
    assert change.changed and change.dry_run
    assert change.summary == f"installed {MISSING}"
    # It asks apt what the install would remove (apt-get -s), and installs nothing.
    assert [c for c in conn.sent if "apt-get" in c] == [
        f"DEBIAN_FRONTEND=noninteractive apt-get -s -q install {MISSING}"
    ]


def test_remove_of_absent_package_is_a_no_op(conn, facts):
    assert not packages.remove_packages(conn, facts, MISSING).changed
    assert not conn.sent_any("apt-get")


def test_remove_dry_run_sends_nothing(conn, facts):
    change = packages.remove_packages(conn, facts, "dpkg", dry_run=True)
    assert change.changed and change.summary == "removed dpkg"
    assert not conn.sent_any("apt-get")
    assert packages.is_package_installed(conn, facts, "dpkg")


def test_update_cache_dry_run_and_max_age(conn, facts):
    assert packages.update_package_cache(conn, facts, max_age=0, dry_run=True).changed
    fresh = packages.update_package_cache(conn, facts, max_age=10**10, dry_run=True)
    assert not fresh.changed
    assert not conn.sent_any("apt-get update")


def test_add_repository_writes_its_own_file_once(conn, facts, tmp_path):
    line = "deb [signed-by=/usr/share/keyrings/x.gpg] https://example.invalid/apt stable main"
    first = packages.add_repository(conn, facts, "example", line, directory=str(tmp_path))
    assert first.changed
    assert (tmp_path / "example.list").read_text() == line + "\n"
    assert oct((tmp_path / "example.list").stat().st_mode & 0o777) == "0o644"
    writes = len(conn.sent)
    assert not packages.add_repository(
        conn, facts, "example", line, directory=str(tmp_path)
    ).changed
    assert len(conn.sent) == writes + 1  # the read only


def test_dnf_repository_file_name(conn, facts, tmp_path):
    rhel = dataclasses.replace(facts, package_manager=PackageManager(type="dnf"))
    packages.add_repository(conn, rhel, "epel", "[epel]\nname=EPEL\n", directory=str(tmp_path))
    assert (tmp_path / "epel.repo").read_text() == "[epel]\nname=EPEL\n"


@pytest.mark.parametrize("bad", ["nginx; rm -rf /", "-y", "a b", ""])
def test_bad_names_are_refused_before_anything_runs(conn, facts, bad):
    with pytest.raises(KitValueError, match="package name"):
        packages.install_packages(conn, facts, "curl", bad)
    assert conn.sent == []


def test_unknown_package_manager_is_a_clear_error(conn, facts):
    unknown = dataclasses.replace(facts, package_manager=PackageManager())
    with pytest.raises(FactUnknown, match="package_manager"):
        packages.install_packages(conn, unknown, "curl")
    assert conn.sent == []
