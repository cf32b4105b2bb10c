"""Disposable hosts for the hosts tier, booted once per test process and shared.

`containers` (a list of container hosts) and `vm` (one VM host) each boot on first
use and are taken down when the session ends. Every scenario that asks for the VM is
marked `vm`, so the tier runs as two processes at once (tests/run.py): `-m vm` and
`-m "not vm"`, each under xdist with whole modules per worker, each worker booting the
VM or the containers of its own.

Without root or a required tool the tier is unavailable: skipped outside CI,
an error in CI (tests.tiers.unavailable). HOSTKIT_VM=0 skips the VM's tests, for a quick
run of the containers' alone; CI never sets it. HOSTKIT_VM_REBOOT=1 adds the VM
--reboot scenario (about five minutes), which CI leaves out for time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from kit import testhosts
from kit.testhosts import Fleet, Host, image
from tests import tiers, timings

CONTAINERS = int(os.environ.get("HOSTKIT_CONTAINERS", "3"))
# How long a scenario waits for the VM to come back from a reboot. A reboot is a
# shutdown, GRUB and a whole boot under TCG emulation: measured past 300 s on the
# two-core machine loaded by other work with both VMs of the VM lane running.
VM_REBOOT_TIMEOUT = 600


VM_FIXTURES = {"vm", "vm_fleet"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if VM_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.vm)


def boot(tmp_path_factory: pytest.TempPathFactory, label: str, **shape: object) -> Fleet:
    try:
        if image.cached() is None:  # built on its own first, so its time shows apart
            with timings.timed("image build"):
                image.ensure()
        with timings.timed(f"boot {label}"):
            return testhosts.up(state_dir=tmp_path_factory.mktemp(label), **shape)  # type: ignore[arg-type]
    except (testhosts.NotRoot, testhosts.ToolMissing) as exc:
        tiers.unavailable("hosts", str(exc))


@pytest.fixture(scope="session")
def containers_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    fleet = boot(tmp_path_factory, "containers", containers=CONTAINERS)
    yield fleet
    testhosts.down(fleet.state_dir)


@pytest.fixture(scope="session")
def containers(containers_fleet: Fleet) -> list[Host]:
    return containers_fleet.containers


@pytest.fixture(scope="module")
def container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """A container of the module's own, booted for it (a second or two): for scenarios
    that install or break what the other modules' scenarios on the shared containers
    must not meet, as those moved here from the VM were kept apart by running there."""
    fleet = boot(tmp_path_factory, "container", containers=1)
    yield fleet.containers[0]
    testhosts.down(fleet.state_dir)


@pytest.fixture(scope="session")
def vm_fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    if os.environ.get("HOSTKIT_VM") == "0":
        pytest.skip("HOSTKIT_VM=0: the VM's tests are left out")
    fleet = boot(tmp_path_factory, "vm", vm=True)
    yield fleet
    testhosts.down(fleet.state_dir)


@pytest.fixture(scope="session")
def vm(vm_fleet: Fleet) -> Host:
    assert vm_fleet.vm is not None
    return vm_fleet.vm
