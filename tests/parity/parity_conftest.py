"""The conftest the upstream module tests run with: one host, through the backend asked for.

Under hostkit the host comes from `--hosts`, as a user's suite gets it; under testinfra's
own paramiko backend it comes from this fixture, as testinfra's test suite builds it.
"""

from __future__ import annotations

import os

import pytest
import testinfra


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "testinfra_hosts(spec): hosts of upstream's images")
    config.addinivalue_line("markers", "destructive: changes the host")


@pytest.fixture
def docker_image() -> str:
    # Upstream's tests branch on the image; the host here is closest to this one.
    return "debian_bookworm"


if os.environ.get("PARITY_BACKEND") == "paramiko":

    @pytest.fixture(scope="module")
    def host() -> testinfra.host.Host:
        return testinfra.get_host(
            f"paramiko://{os.environ.get('PARITY_USER', 'root')}@target",
            ssh_config=os.environ["PARITY_SSH_CONFIG"],
        )

elif os.environ.get("PARITY_BACKEND") == "testinfra":

    @pytest.fixture(autouse=True)
    def _through_its_own_backend(request: pytest.FixtureRequest) -> None:
        # With hostkit installed or not, the host runs on testinfra's backend.
        if "host" in request.fixturenames:
            kind = type(request.getfixturevalue("host").backend).__name__
            assert kind == os.environ["PARITY_BACKEND_CLASS"], f"the host runs on {kind}"

else:

    @pytest.fixture(autouse=True)
    def _through_hostkit(request: pytest.FixtureRequest) -> None:
        # A run that fell back to testinfra's own backend would compare it with itself.
        if "host" in request.fixturenames:
            kind = type(request.getfixturevalue("host").backend).__name__
            assert kind == "KitBackend", f"the host runs on {kind}"
