"""Profiles are found along a search path: the run's own directory, then the shipped
catalog's, so a user's profile can extend, or stand in for, a shipped one."""

from __future__ import annotations

import pytest

from kit.catalog import describe as catalog
from kit.catalog import profile
from kit.errors import KitValueError

SHIPPED = catalog.shipped() / "profiles"


def test_the_shipped_catalog_is_found_with_its_profiles():
    assert (SHIPPED / "kubernetes-node.yaml").is_file()
    assert (catalog.shipped() / "test_kernel.py").is_file()


def test_a_users_profile_extends_a_shipped_one(tmp_path):
    (tmp_path / "site.yaml").write_text(
        "extends: kubernetes-node\nchecks_add: [site.motd]\nparams:\n  modules: [dm_crypt]\n"
    )
    shipped = profile.load("kubernetes-node", SHIPPED)
    site = profile.load("site", [tmp_path, SHIPPED])
    assert site.checks == (*shipped.checks, "site.motd")
    assert site.values("modules") == [("dm_crypt",)]
    assert site.values("sysctls") == shipped.values("sysctls")
    assert site.parents[0] == SHIPPED / "kubernetes-node.yaml"


def test_a_users_profile_stands_in_for_the_shipped_one_of_its_name(tmp_path):
    (tmp_path / "kubernetes-node.yaml").write_text(
        "extends: kubernetes-node\nparams:\n  modules: [dm_crypt]\n"
    )
    own = profile.load("kubernetes-node", [tmp_path, SHIPPED])
    assert own.source == tmp_path / "kubernetes-node.yaml"
    assert own.values("modules") == [("dm_crypt",)]
    assert own.checks == profile.load("kubernetes-node", SHIPPED).checks


def test_a_profile_given_by_path_extends_one_next_to_it_before_the_shipped_one(tmp_path):
    (tmp_path / "kubernetes-node.yaml").write_text("checks: [site.only]\n")
    (tmp_path / "site.yaml").write_text("extends: kubernetes-node\n")
    assert profile.load(str(tmp_path / "site.yaml"), [SHIPPED]).checks == ("site.only",)


def test_names_from_every_directory_are_offered(tmp_path):
    (tmp_path / "site.yaml").write_text("checks: [a]\n")
    with pytest.raises(KitValueError, match=r"not found \(available: .*kubernetes-node.*site"):
        profile.load("nope", [tmp_path, SHIPPED])


def test_a_profile_that_only_extends_itself_is_refused(tmp_path):
    (tmp_path / "loop.yaml").write_text("extends: loop\n")
    with pytest.raises(KitValueError, match="extends itself"):
        profile.load("loop", [tmp_path, SHIPPED])
