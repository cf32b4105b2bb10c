"""A site's own checks are first-class in `hostkit catalog`: list and explain read the
checks of the current directory (where the README puts them), of a profile given by path,
and of the directories named as they would be to pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SITE = """
from kit.catalog.check import check

@check("site.sysctl.floor", "the site's sysctl floor holds")
def test_floor(conn):
    '''Reads vm.max_map_count.'''
    assert True
"""
PROFILE = "name: site\nextends: kubernetes-node\nchecks_add: [site.*]\n"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "test_site.py").write_text(SITE)
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "site.yaml").write_text(PROFILE)
    return tmp_path


def catalog(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "kit.catalog", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ids(out: str) -> list[str]:
    return [line.split()[0] for line in out.splitlines()[1:] if line.strip()]


def test_explain_finds_a_site_check_in_the_current_directory(site):
    done = catalog(site, "explain", "site.sysctl.floor")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("site.sysctl.floor: the site's sysctl floor holds\n")
    assert "source: " + str(site / "test_site.py") in done.stdout
    assert "Reads vm.max_map_count." in done.stdout


def test_list_of_a_site_profile_has_the_site_check_and_the_shipped_ones(site):
    done = catalog(site, "list", "--profile", "profiles/site.yaml")
    assert done.returncode == 0, done.stderr
    listed = ids(done.stdout)
    assert listed[-1] == "site.sysctl.floor"
    assert "k8s.swap.off" in listed


def test_a_directory_named_as_to_pytest_is_read(site, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    done = catalog(elsewhere, "explain", "site.sysctl.floor", str(site))
    assert done.returncode == 0, done.stderr
    assert "site.sysctl.floor" in ids(catalog(elsewhere, "list", str(site)).stdout)
    missing = catalog(elsewhere, "explain", "site.sysctl.floor")
    assert missing.returncode == 4 and "no check has id" in missing.stderr


def test_a_site_module_that_does_not_import_is_one_line_naming_it(site):
    (site / "test_broken.py").write_text("import hostkit_no_such_module\n")
    done = catalog(site, "list")
    assert done.returncode == 4, done.stderr
    assert done.stderr == (
        f"error: cannot read the checks in {site / 'test_broken.py'}: "
        "ModuleNotFoundError: No module named 'hostkit_no_such_module'\n"
    )
