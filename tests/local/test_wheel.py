"""The wheel as a user gets it: built from this checkout, installed into a fresh venv (not
this checkout's kit, not this interpreter's packages), and run from an empty directory
against this machine with a shipped profile."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from kit.catalog import describe as catalog
from kit.catalog import profile
from tests.tiers import unavailable

pytestmark = pytest.mark.wheel

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "setup.py", "README.md", "kit", "hostkit_catalog", "checks")
SOURCES += ("remediations",)
# What pip prints when it cannot reach an index: the tier cannot start, the wheel is not wrong.
OFFLINE = ("No matching distribution", "Could not find a version", "NewConnectionError")


def run(*args: str | Path, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def pip(python: Path, *args: str | Path, cwd: Path) -> None:
    done = run(python, "-m", "pip", "--disable-pip-version-check", *args, cwd=cwd)
    if done.returncode != 0 and any(word in done.stderr for word in OFFLINE):
        unavailable("wheel", f"pip cannot reach a package index: {done.stderr.strip()[-300:]}")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the wheel, the venv's python) with the wheel and its dependencies installed."""
    base = tmp_path_factory.mktemp("wheel")
    # A copy, so the build's own files (build/, *.egg-info) stay out of the checkout.
    source = base / "source"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=ignore)
        else:
            source.mkdir(exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    dist = base / "dist"
    pip(Path(sys.executable), "wheel", "--no-deps", "-q", "-w", dist, source, cwd=base)
    (wheel,) = dist.glob("hostkit-*.whl")
    env = base / "venv"
    venv.EnvBuilder(with_pip=True, system_site_packages=False).create(env)
    python = env / "bin" / "python"
    pip(python, "install", "-q", wheel, cwd=base)
    return wheel, python


def test_the_wheel_adds_no_generic_top_level_names(installed):
    wheel, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert tops == {"kit", "hostkit_catalog", next(t for t in tops if t.endswith(".dist-info"))}
    assert "hostkit_catalog/checks/profiles/kubernetes-node.yaml" in names
    assert "hostkit_catalog/remediations/kernel.py" in names
    assert "kit/facts/gather.sh" in names


def test_the_venv_imports_the_installed_kit_not_the_checkout(installed, tmp_path):
    _, python = installed
    code = "import kit, hostkit_catalog.checks as c; print(kit.__file__); print(c.__file__)"
    done = run(python, "-c", code, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    env = python.parent.parent
    for line in done.stdout.split():
        assert Path(line).is_relative_to(env), line


def test_a_compliance_run_from_an_empty_directory_writes_its_reports_there(installed, tmp_path):
    _, python = installed
    shipped = catalog.shipped()
    node = profile.load("kubernetes-node", shipped / "profiles")
    expected = {m.id for m in catalog.checks(shipped) if node.order_of(m.id) is not None}
    done = run(
        python, "-m", "pytest", "--pyargs", "hostkit_catalog.checks", "--hosts=local://",
        "--profile", "kubernetes-node", "--junitxml=junit.xml", "--report-json=report.json",
        cwd=tmp_path,
    )  # fmt: skip
    # This machine is no Kubernetes node: checks fail, and that is a completed run.
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    assert "hostkit profile kubernetes-node:" in done.stdout
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    ids = {prop.get("value") for prop in junit.iter("property") if prop.get("name") == "check_id"}
    assert "k8s.swap.off" in expected
    assert ids == expected
    assert (tmp_path / "report.json").is_file()


def test_the_catalog_cli_describes_the_installed_catalog(installed, tmp_path):
    _, python = installed
    done = run(python, "-m", "kit.catalog", "list", "--profile", "kubernetes-node", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "k8s.swap.off" in done.stdout
    assert "hostkit_catalog/checks/test_kernel.py:" in done.stdout
    done = run(python, "-m", "kit.catalog", "explain", "k8s.swap.off", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "remediation: hostkit_catalog.remediations.kernel.disable_swap" in done.stdout


def test_a_users_directory_extends_the_installed_catalog(installed, tmp_path):
    _, python = installed
    (tmp_path / "conftest.py").write_text("")
    (tmp_path / "test_site.py").write_text(
        "from kit.catalog.check import check\n\n\n"
        '@check("site.hello", "the site\'s own check")\n'
        "def test_hello(conn):\n"
        '    assert conn.read("echo hello").stdout.strip() == "hello"\n'
    )
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "site.yaml").write_text(
        "name: site\nextends: kubernetes-node\nchecks_add: [site.*]\n"
    )
    done = run(
        python, "-m", "pytest", ".", "--pyargs", "hostkit_catalog.checks", "--hosts=local://",
        "--profile=profiles/site.yaml", "--check=site.*,k8s.swap.off", "--junitxml=junit.xml",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    ids = {p.get("value") for p in junit.iter("property") if p.get("name") == "check_id"}
    assert ids == {"site.hello", "k8s.swap.off"}


def test_the_hostkit_command_runs_the_installed_catalog_from_any_directory(installed, tmp_path):
    _, python = installed
    hostkit = python.parent / "hostkit"
    assert hostkit.is_file(), "the wheel installs no hostkit command"
    done = run(
        hostkit, "check", "--hosts=local://", "--profile", "kubernetes-node",
        "--check=k8s.swap.off", "--report-json=-", "-p", "no:cacheprovider",
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    doc = json.loads(done.stdout)  # the report alone on standard output
    assert {r["check"] for r in doc["results"]} == {"k8s.swap.off"}
    assert "hostkit profile kubernetes-node:" in done.stderr
    listed = run(hostkit, "catalog", "list", "--profile", "kubernetes-node", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "k8s.swap.off" in listed.stdout
    typo = run(hostkit, "catalog", "explain", "k8s.swap.of", cwd=tmp_path)
    assert typo.returncode == 4 and "did you mean k8s.swap.off" in typo.stderr
