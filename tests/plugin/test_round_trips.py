"""A host's whole compliance read is one round trip: the facts gather answers every check."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.connection.local import LocalConnection

CATALOG = Path(__file__).resolve().parents[2] / "checks"


# Every shipped profile, with the number of checks it runs on this machine at least.
PROFILES = {
    "kubernetes-node": 20,
    "kubernetes-control-plane": 20,
    "kubernetes-preflight-worker": 20,
    "kubernetes-preflight-control-plane": 20,
    "cis-kubernetes-node": 10,
    "kubernetes-node-dual-stack": 5,
    "kubernetes-node-ipvs": 5,
}


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_catalog_reads_a_host_in_one_command(pytester, monkeypatch, name):
    sent: list[str] = []
    real = LocalConnection._exec

    def counting(self, cmdline, *, stdin, timeout):
        sent.append(cmdline)
        return real(self, cmdline, stdin=stdin, timeout=timeout)

    monkeypatch.setattr(LocalConnection, "_exec", counting)
    result = pytester.runpytest_inprocess(
        str(CATALOG),
        "-p",
        "no:cacheprovider",
        f"--profile={CATALOG / 'profiles' / f'{name}.yaml'}",
    )
    outcomes = result.parseoutcomes()
    assert sum(v for k, v in outcomes.items() if k != "seconds") >= PROFILES[name]
    assert len(sent) == 1, sent
    assert "@@hostkit:" in sent[0]  # the facts script, as an argument: no stdin channel


def test_every_shipped_profile_is_counted():
    shipped = {p.stem for p in (CATALOG / "profiles").glob("*.yaml")}
    assert shipped == set(PROFILES)


PROBED = """
import pytest
from kit.catalog.check import check

@check("t.file", "file owned by root", reads_file="path")
@pytest.mark.parametrize("path", ["/etc/passwd", "/etc/hostkit-absent"])
def test_file(facts, path):
    stat = facts.files[path]
    assert stat is not None and stat.owner == "root" and stat.mode == 0o644

@check("t.package", "package installed", reads_package="name")
@pytest.mark.parametrize("name", ["bash", "hostkit-no-such-package"])
def test_package(facts, name):
    assert facts.packages[name]
"""


def test_file_and_package_checks_ride_along_with_the_facts(pytester, monkeypatch):
    sent: list[str] = []
    real = LocalConnection._exec

    def counting(self, cmdline, *, stdin, timeout):
        sent.append(cmdline)
        return real(self, cmdline, stdin=stdin, timeout=timeout)

    monkeypatch.setattr(LocalConnection, "_exec", counting)
    pytester.makepyfile(test_probed=PROBED)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=2)
    assert len(sent) == 1, sent
    assert "/etc/hostkit-absent" in sent[0] and "hostkit-no-such-package" in sent[0]
