"""A user's own directory, outside the repository's layout: their checks and a profile that
extends a shipped one run together with the shipped catalog's checks."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SITE_CHECKS = """
from kit.catalog.check import check

@check("site.hello", "the site's own check")
def test_hello(conn):
    assert conn.read("echo hello").stdout.strip() == "hello"
"""

SITE_PROFILE = """
name: site
extends: kubernetes-node
checks_add: [site.*]
"""


@pytest.fixture(autouse=True)
def this_kit(monkeypatch):
    """The subprocesses import the kit under test, wherever their working directory is."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


@pytest.fixture
def site(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\n")
    pytester.makeconftest("")
    pytester.makepyfile(test_site=SITE_CHECKS)
    (pytester.path / "profiles").mkdir()
    (pytester.path / "profiles" / "site.yaml").write_text(SITE_PROFILE)
    return pytester


def test_a_users_profile_extends_the_shipped_one_and_adds_their_checks(site):
    result = site.runpytest_subprocess(
        ".",
        "--pyargs",
        "hostkit_catalog.checks",
        "--hosts=local://",
        "--profile=profiles/site.yaml",
        "--check=site.*,k8s.swap.off",
        "--junitxml=junit.xml",
        "-p",
        "no:cacheprovider",
    )
    out = result.stdout.str()
    assert result.ret in (0, 1), out + result.stderr.str()
    assert "hostkit profile site:" in out
    cases = ET.parse(site.path / "junit.xml").getroot().iter("testcase")
    ran = {(c.get("classname") or "").rsplit(".", 1)[-1] + "::" + c.get("name", "") for c in cases}
    assert any(name.startswith("test_site::test_hello") for name in ran), ran
    assert any(name.startswith("test_kernel::test_swap") for name in ran), ran
