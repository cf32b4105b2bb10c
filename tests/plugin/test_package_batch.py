"""Packages a host's fixes need are installed in one package-manager call, with real apt.

Tiny .deb files built here with dpkg-deb sit in a local `file:` repository. The host's
facts name the runner's own apt templates pointed at a private root (`-o Dir=...`, its own
dpkg database and install directory, as tests/local/test_package_conflicts.py does), so
the real apt-get and dpkg install the real packages while nothing of this machine's
packages is read or written. The facts are swapped in by the suite's conftest: this
machine's dpkg database is what no test may change. `apt-get` is called through a
script that writes each invocation's arguments to a log, then runs the real apt-get.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kit.connection.local import LocalConnection
from kit.connection.spec import parse
from kit.runner import journal
from tests import aptrepo
from tests.plugin.fixruns import fix_run, junit

TOOLS = ("dpkg-deb", "dpkg-scanpackages", "apt-get", "dpkg")
pytestmark = pytest.mark.skipif(
    not all(map(shutil.which, TOOLS)) or os.geteuid() != 0,
    reason="needs dpkg-deb, dpkg-scanpackages, apt-get, dpkg, and root for dpkg's --instdir",
)

# Named as Debian names the packages of two executables kubeadm looks for, so the
# catalog's own remediation (remediations.packages.install_for_executable) installs them.
IN_REPO = ("socat", "ethtool")

CONFTEST = """
import dataclasses

import kit.facts
from kit.facts.commands import PACKAGE_MANAGERS

ROOT, APT = {root!r}, {apt!r}
OPTS = (
    f"-o Dir={{ROOT}} -o Dir::State::status={{ROOT}}/dpkg/status "
    "-o Dir::Etc::trusted=/dev/null "
    f"-o Dir::Etc::trustedparts={{ROOT}}/etc/apt/trusted.gpg.d "
    f"-o DPkg::Options::=--admindir={{ROOT}}/dpkg -o DPkg::Options::=--instdir={{ROOT}}/inst "
    f"-o DPkg::Options::=--log={{ROOT}}/dpkg.log -o Debug::NoLocking=1"
)
real = PACKAGE_MANAGERS["apt"]
PRIVATE = dataclasses.replace(
    real,
    **{{
        f.name: getattr(real, f.name)
        .replace("apt-get ", f"{{APT}} {{OPTS}} ")
        .replace("dpkg-query ", f"dpkg-query --admindir={{ROOT}}/dpkg ")
        for f in dataclasses.fields(real)
        if f.name != "type"
    }},
)
gather = kit.facts.gather_facts


def private(*args, **kwargs):
    return dataclasses.replace(gather(*args, **kwargs), package_manager=PRIVATE)


kit.facts.gather_facts = private
"""

CHECKS = """
import pytest
from kit.catalog.check import check
from kit.runner import packages
from remediations.packages import install_for_executable, package_for

@check("t.exec", "the executable's package is installed", fix=install_for_executable)
@pytest.mark.parametrize("executable", EXECUTABLES)
def test_exec(conn, facts, executable):
    package = package_for(executable, facts)
    assert packages.is_package_installed(conn, facts, package), f"{package} not installed"
"""


def build(tmp: Path) -> Path:
    """The repository of IN_REPO and a private apt root with fresh lists and no package."""
    return aptrepo.build(tmp, dict.fromkeys(IN_REPO, ""))


@pytest.fixture
def suite(pytester: pytest.Pytester, tmp_path: Path):
    """The private root, and the log of every apt-get the run starts (made by the fixture's
    own `apt-get update` too: the lists are fresh when the run starts)."""
    root = build(tmp_path)
    log = tmp_path / "apt-get.log"
    apt = tmp_path / "apt-get-logged"
    apt.write_text(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {log}\nexec apt-get "$@"\n')
    apt.chmod(0o755)
    pytester.makeconftest(CONFTEST.format(root=str(root), apt=str(apt)))
    opts = ["-o", f"Dir={root}", "-o", f"Dir::State::status={root}/dpkg/status", "-q"]
    subprocess.run(["apt-get", *opts, "update"], check=True, capture_output=True)
    return root, log


def calls(log: Path) -> list[str]:
    """The apt-get invocations, each as its verb and package names (options left out)."""
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        words = line.split()
        kept, skip = [], False
        for w in words:
            if skip:
                skip = False
            elif w == "-o":
                skip = True
            elif not w.startswith("-"):
                kept.append(w)
        out.append(" ".join(kept) + (" (simulated)" if " -s " in f" {line} " else ""))
    return out


def installed(root: Path) -> set[str]:
    res = subprocess.run(
        ["dpkg-query", f"--admindir={root}/dpkg", "-W", "-f", "${Package} ${Status}\\n"],
        capture_output=True,
        text=True,
    )
    return {ln.split()[0] for ln in res.stdout.splitlines() if ln.endswith(" installed")}


def records(pytester: pytest.Pytester) -> list[dict[str, object]]:
    (run,) = journal.read_runs(LocalConnection(parse("local://")), str(pytester.path / "runs"))
    return run.entries


@pytest.mark.parametrize("how", [(), ("--fix-parallel", "1")], ids=["threads", "pytest-loop"])
def test_two_fixes_that_need_packages_install_them_in_one_apt_get_call(pytester, suite, how):
    root, log = suite
    pytester.makepyfile(test_checks=f"EXECUTABLES = {list(IN_REPO)!r}\n" + CHECKS)
    res = fix_run(pytester, *how)
    assert res.ret == 0, res.stdout.str()
    assert "2 fixed" in res.stdout.str()
    assert installed(root) == {"socat", "ethtool"}
    # One install of both, asked once beforehand what it would remove; the lists refreshed
    # at most once (the age the runner reads is of this machine's lists, which may be old).
    made = calls(log)
    assert made.count("update") <= 1, made
    assert [c for c in made if c != "update"] == [
        "install socat ethtool (simulated)",
        "install socat ethtool",
    ]
    # Each fix still says which package it needed.
    props = junit(pytester)
    assert props["test_exec[local://-socat]"]["fix"] == [
        "socat from socat: installed socat (in one install with ethtool)"
    ]
    assert props["test_exec[local://-ethtool]"]["fix"] == [
        "ethtool from ethtool: installed ethtool (in one install with socat)"
    ]
    # One step on record, naming exactly what it installed and which check needed what.
    steps = [e for e in records(pytester) if e.get("state") == "begin"]
    assert [(s["op"], s["needs"]) for s in steps] == [
        ("install socat ethtool", "t.exec[socat]: socat; t.exec[ethtool]: ethtool")
    ]
    # Undo names exactly the packages the run installed, as it does for a fix's own install.
    (run,) = os.listdir(pytester.path / "runs")
    dirs = [f"--runs-dir={pytester.path / 'runs'}", f"--lock-dir={pytester.path / 'lock'}"]
    plan = subprocess.run(
        [sys.executable, "-m", "kit.runs", "--hosts=local://", *dirs, "undo", run, "--dry-run"],
        capture_output=True,
        text=True,
        cwd=pytester.path,
    )
    assert "manual: install socat ethtool: no safe inverse; undo it by hand" in plan.stdout, (
        plan.stdout + plan.stderr
    )


SKIPPING = """

@check("t.skips", "a check that skips on this host, as the catalog's conntrack check does",
       fix=install_for_executable)
@pytest.mark.parametrize("executable", ["socat"])
def test_skips(conn, facts, executable):
    pytest.skip("not needed on this host")


@check("t.fails", "a check that fails with pytest.fail", fix=install_for_executable)
@pytest.mark.parametrize("executable", ["ethtool"])
def test_fails_outright(conn, facts, executable):
    pytest.fail("failed outright")
"""


@pytest.mark.parametrize("how", [(), ("--fix-parallel", "1")], ids=["threads", "pytest-loop"])
def test_checks_that_skip_or_fail_outright_before_their_turn_are_left_to_it(pytester, suite, how):
    root, _ = suite
    # Run ahead of its turn to learn whether its fix will install, a check may skip or call
    # pytest.fail: its own turn reports that, and the others' packages are still batched.
    pytester.makepyfile(test_checks=f"EXECUTABLES = {list(IN_REPO)!r}\n" + CHECKS + SKIPPING)
    res = fix_run(pytester, *how)
    out = res.stdout.str()
    assert "INTERNALERROR" not in out, out
    assert installed(root) == {"socat", "ethtool"}
    res.assert_outcomes(passed=0, failed=1, skipped=1, errors=0)
    assert "2 fixed" in out, out


def test_a_package_the_batch_cannot_install_falls_back_to_each_fix_on_its_own(pytester, suite):
    root, log = suite
    # conntrack is in no repository: the batch cannot be installed, each fix runs alone.
    pytester.makepyfile(test_checks="EXECUTABLES = ['socat', 'conntrack']\n" + CHECKS)
    res = fix_run(pytester)
    assert res.ret == 1, res.stdout.str()
    assert installed(root) == {"socat"}
    props = junit(pytester)
    assert props["test_exec[local://-socat]"]["fix"] == ["socat from socat: installed socat"]
    (failed,) = props["test_exec[local://-conntrack]"]["fix_failed"]
    assert "Unable to locate package conntrack" in failed
    assert [c for c in calls(log) if not c.endswith("(simulated)")].count("install socat") == 1


def test_a_dry_run_names_the_packages_and_installs_none(pytester, suite):
    root, log = suite
    pytester.makepyfile(test_checks=f"EXECUTABLES = {list(IN_REPO)!r}\n" + CHECKS)
    res = fix_run(pytester, "--dry-run")
    assert res.ret == 1, res.stdout.str()
    props = junit(pytester)
    for package in IN_REPO:
        (planned,) = props[f"test_exec[local://-{package}]"]["planned"]
        assert f"would install {package}" in planned or f"installed {package}" in planned
    assert installed(root) == set()
    assert not [c for c in calls(log) if not c.endswith("(simulated)")]


LISTED = """
from kit.catalog.check import check as _check

@_check("t.a.listed", "dpkg lists socat's files", reads_file="path")
@pytest.mark.parametrize("path", [LIST])
def test_a_listed(facts, path):
    assert facts.files[path] is not None, "socat's file list is absent"
"""


def test_a_check_after_the_install_sees_the_host_as_the_install_left_it(pytester, suite):
    root, _ = suite
    # On the host's thread the install comes before its first check; the facts the fixes
    # were planned on were gathered before it, and must not answer a check after it.
    listed = f"LIST = {str(root / 'dpkg' / 'info' / 'socat.list')!r}\n"
    checks = CHECKS.replace("import pytest\n", "import pytest\n" + LISTED, 1)
    pytester.makepyfile(test_checks=f"EXECUTABLES = {list(IN_REPO)!r}\n{listed}" + checks)
    res = fix_run(pytester)
    out = res.stdout.str()
    assert installed(root) == {"socat", "ethtool"}
    res.assert_outcomes(passed=1, failed=0, errors=0)
    assert "2 fixed" in out, out
