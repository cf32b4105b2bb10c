"""Metadata on a check, and the pairing with its remediation.

    @check("k8s.sysctl", "Kernel parameter has the profile's value",
           severity="error", refs={"kubeadm": "FileContent--proc-sys-net-ipv4-ip_forward"},
           fix=remediations.kernel.sysctl, params="sysctls", argnames="key,value")
    def test_sysctl(facts, key, value): ...

The profile supplies the parameters; the check only states what must hold.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from kit.errors import KitValueError

SEVERITIES = ("error", "warning")
# Tags become markers (`-m kernel`); a fixed set, registered by the plugin, catches typos.
TAGS = ("kernel", "network", "system", "storage", "security")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class CheckMeta:
    id: str
    title: str
    severity: str = "error"
    refs: Mapping[str, str] = field(default_factory=dict)
    fix: Callable[..., Any] | None = None
    params: str | None = None
    argnames: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    reads_file: str | None = None
    reads_package: str | None = None


def check(
    id: str,
    title: str,
    *,
    severity: str = "error",
    refs: Mapping[str, str] | None = None,
    fix: Callable[..., Any] | None = None,
    params: str | None = None,
    argnames: str | None = None,
    tags: tuple[str, ...] = (),
    reads_file: str | None = None,
    reads_package: str | None = None,
) -> Callable[[F], F]:
    """Declare a test function a hostkit check.

    reads_file / reads_package name the argument that holds a file path / package
    name the check reads: its state then comes with the facts, in the same round
    trip (facts.files[path], facts.packages[name]).
    """
    if not _ID.match(id):
        raise KitValueError(f"invalid check id {id!r}")
    if severity not in SEVERITIES:
        raise KitValueError(f"check {id}: severity must be one of {SEVERITIES}, not {severity!r}")
    if (params is None) != (argnames is None):
        raise KitValueError(f"check {id}: params and argnames go together")
    unknown = [t for t in tags if t not in TAGS]
    if unknown:
        raise KitValueError(f"check {id}: unknown tag(s) {unknown}; known: {', '.join(TAGS)}")
    names = tuple(a.strip() for a in argnames.split(",")) if argnames else ()
    meta = CheckMeta(
        id,
        title,
        severity,
        dict(refs or {}),
        fix,
        params,
        names,
        tuple(tags),
        reads_file,
        reads_package,
    )

    def decorate(fn: F) -> F:
        marks = [pytest.mark.hostkit_check(meta), getattr(pytest.mark, severity)]
        marks += [getattr(pytest.mark, tag) for tag in tags]
        for mark in marks:
            fn = mark(fn)
        return fn

    return decorate


_META = pytest.StashKey["CheckMeta | None"]()


def meta_of(item: pytest.Item) -> CheckMeta | None:
    # Asked several times for each check as it runs and is reported; finding the marker
    # walks the item's and its parents' markers each time.
    try:
        return item.stash[_META]
    except KeyError:
        pass
    mark = item.get_closest_marker("hostkit_check")
    meta = item.stash[_META] = mark.args[0] if mark else None
    return meta
