"""What a remediation receives, and what it declares about itself."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from kit.errors import KitValueError

if TYPE_CHECKING:
    from kit.connection import Connection
    from kit.facts import Facts

F = TypeVar("F", bound=Callable[..., Any])
STRATEGIES = ("configure", "enable", "disable", "install", "restrict")
DISRUPTIONS = ("low", "medium", "high")


@dataclass(frozen=True)
class Target:
    """The host a remediation repairs: its connection, its facts, and whether to only plan."""

    conn: Connection
    facts: Facts
    dry_run: bool = False
    # The run's --max-disruption: a remediation whose disruption depends on the host (a
    # restart of the runtime of a node that runs containers) compares against it. Called
    # outside a run, the caller has chosen to make the change: no limit.
    max_disruption: str = "high"


@dataclass(frozen=True)
class RemediationMeta:
    reboot: bool
    strategy: str
    disruption: str
    never: str = ""
    # True: what it changes is written where the next boot reads it (config, enabled
    # units, installed packages); False: a live-only change a reboot undoes; None: the
    # remediation does not say.
    persists: bool | None = None
    # True: it may install packages (through kit.runner.packages). Before a host's fixes
    # run, those of such fixes are planned and installed in one package-manager call
    # (kit.plugin.fixpackages); what each would install comes from its plan, not from here.
    installs: bool = False


def remediation(
    *,
    reboot: bool = False,
    strategy: str,
    disruption: str,
    never: str = "",
    persists: bool | None = None,
    installs: bool = False,
) -> Callable[[F], F]:
    """Declare a remediation: whether it needs a reboot, its strategy, how disruptive it is,
    what it leaves alone beyond what the runner protects for every remediation, and
    whether its change survives a reboot (persists), and whether it may install packages
    (installs)."""
    if strategy not in STRATEGIES:
        raise KitValueError(f"strategy must be one of {STRATEGIES}, not {strategy!r}")
    if disruption not in DISRUPTIONS:
        raise KitValueError(f"disruption must be one of {DISRUPTIONS}, not {disruption!r}")

    def decorate(fn: F) -> F:
        meta = RemediationMeta(reboot, strategy, disruption, never, persists, installs)
        fn.hostkit_remediation = meta  # type: ignore[attr-defined]
        return fn

    return decorate
