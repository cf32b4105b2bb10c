"""The ssh tier's xdist groups take effect: a group mark added after xdist's own hook has
read the items would leave every test of the test users' sshd scattered over both workers,
and the second worker waiting for the first one's whole session."""

from __future__ import annotations

import pytest

from tests.ssh import sshd
from tests.ssh.conftest import USERS_GROUP


@pytest.fixture
def loadgroup(request: pytest.FixtureRequest) -> None:
    if not request.config.getvalue("loadgroup"):
        pytest.skip("the tier runs under xdist's --dist loadgroup (tests/run.py)")


@pytest.mark.usefixtures("loadgroup")
def test_a_test_of_the_test_users_runs_in_their_group(
    server: sshd.Sshd, request: pytest.FixtureRequest
) -> None:
    assert request.node.nodeid.endswith("@" + USERS_GROUP)


@pytest.mark.usefixtures("loadgroup")
def test_a_test_of_an_sshd_without_them_runs_anywhere(
    root_server: sshd.Sshd, request: pytest.FixtureRequest
) -> None:
    assert "@" not in request.node.nodeid
