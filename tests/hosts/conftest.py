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

Releases: a module marked `pytest.mark.release(N)` gets a VM and a `container` of Debian N
(12 otherwise). The VM lane runs with --dist loadgroup: a Debian 12 module is a group of its
own (as loadfile had it), and every module of another release joins that release's group
("vm-debianN"), so one worker runs them all on one VM of that release, booted once. A
worker holds one VM at a time: asked for another release, it takes the one it has down
first, so no worker runs two TCG guests. `container_of(N)` boots a container of any
release for a module.

As loaded today the groups do not take effect: this is an initial conftest, registered
before an xdist worker's own hook, which so reads the items before this one marks them,
and scenarios are handed out one at a time (each VM scenario sets up what it needs).
Applied by module (a tryfirst hook), loadgroup would start one worker on
test_catalog_scenarios.py and the Debian 13 group together, about 30 of the lane's
22.6 measured minutes; a change here needs the lane measured again.
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


def release_of(node: pytest.Item | pytest.Module) -> int:
    """The Debian release node's hosts run: its `release` mark's, else the default."""
    marker = node.get_closest_marker("release")
    number = int(marker.args[0]) if marker else image.DEFAULT_RELEASE
    image.release(number)  # an unknown release is refused here, by name
    return number


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Modules of another release than the default run first and together: xdist hands a
    # worker its groups in collection order, so a release's modules scattered among
    # Debian 12's would make a worker boot its VMs in turn, once per switch (measured:
    # five VM boots on one worker instead of two).
    items.sort(key=lambda item: release_of(item) == image.DEFAULT_RELEASE)
    for item in items:
        if VM_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.vm)
            release = release_of(item)
            group = (
                item.nodeid.split("::")[0]
                if release == image.DEFAULT_RELEASE
                else f"vm-debian{release}"
            )
            item.add_marker(pytest.mark.xdist_group(group))


def boot(
    tmp_path_factory: pytest.TempPathFactory,
    label: str,
    release: int | None = None,
    **shape: object,
) -> Fleet:
    try:
        if image.cached(release) is None:  # built on its own first, so its time shows apart
            with timings.timed(f"image build debian{release or image.DEFAULT_RELEASE}"):
                image.ensure(number=release)
        with timings.timed(f"boot {label}"):
            state = tmp_path_factory.mktemp(label)
            return testhosts.up(state_dir=state, release=release, **shape)  # type: ignore[arg-type]
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
def container(request: pytest.FixtureRequest, container_of) -> Host:
    """A container of the module's own, booted for it (a second or two), of the module's
    release: for scenarios that install or break what the other modules' scenarios on
    the shared containers must not meet, as those moved here from the VM were kept
    apart by running there."""
    return container_of(release_of(request.node))


@pytest.fixture(scope="module")
def container_of(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """container_of(N): a container of Debian N of the module's own, booted on first
    ask and taken down with the module; asked again, the same one."""
    fleets: dict[int, Fleet] = {}

    def get(release: int) -> Host:
        if release not in fleets:
            fleets[release] = boot(
                tmp_path_factory, f"container-debian{release}", release, containers=1
            )
        return fleets[release].containers[0]

    yield get
    for fleet in fleets.values():
        testhosts.down(fleet.state_dir)


@pytest.fixture
def fresh_container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """fresh_container(N): a container of Debian N for this test alone (a few seconds to
    boot), for scenarios that install what no other scenario may meet."""
    fleets: list[Fleet] = []

    def get(release: int | None = None) -> Host:
        fleet = boot(tmp_path_factory, f"fresh-debian{release}", release, containers=1)
        fleets.append(fleet)
        return fleet.containers[0]

    yield get
    for fleet in fleets:
        testhosts.down(fleet.state_dir)


class VMPool:
    """The worker's VM: booted when a module first asks, kept while modules of its
    release follow, replaced (the old one down first) when a module of another asks."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._factory = tmp_path_factory
        self.current: tuple[int, Fleet] | None = None

    def fleet(self, release: int) -> Fleet:
        if os.environ.get("HOSTKIT_VM") == "0":
            pytest.skip("HOSTKIT_VM=0: the VM's tests are left out")
        if self.current is not None and self.current[0] != release:
            self.close()
        if self.current is None:
            self.current = (release, boot(self._factory, f"vm-debian{release}", release, vm=True))
        return self.current[1]

    def close(self) -> None:
        if self.current is not None:
            testhosts.down(self.current[1].state_dir)
            self.current = None


@pytest.fixture(scope="session")
def vm_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VMPool]:
    pool = VMPool(tmp_path_factory)
    yield pool
    pool.close()


@pytest.fixture(scope="module")
def vm_fleet(request: pytest.FixtureRequest, vm_pool: VMPool) -> Fleet:
    return vm_pool.fleet(release_of(request.node))


@pytest.fixture(scope="module")
def vm(vm_fleet: Fleet) -> Host:
    assert vm_fleet.vm is not None
    return vm_fleet.vm
