"""The --fix flow for one failing check: remediate, refresh facts, check again."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from kit.errors import KitError
from kit.remediation import Target
from kit.runner.change import Change

if TYPE_CHECKING:
    import pytest

    from kit.hosts import HostContext

HOST_PARAM = "_testinfra_host"


class RemediationFailed(KitError):
    """A remediation raised instead of returning its changes."""


def name_of(fix: Callable[..., Any]) -> str:
    return f"{fix.__module__}.{fix.__qualname__}"


def check_params(item: pytest.Item) -> dict[str, Any]:
    """The check's own parameters, whoever supplied them (a profile or a parametrize)."""
    callspec = getattr(item, "callspec", None)
    params = callspec.params if callspec else {}
    return {k: v for k, v in params.items() if k != HOST_PARAM}


def apply(fix: Callable[..., Any], target: Target, params: Mapping[str, Any]) -> list[Change]:
    """Run fix(target, **params); it returns a Change, several, or None for no change."""
    try:
        result = fix(target, **params)
    except Exception as exc:
        raise RemediationFailed(f"remediation {name_of(fix)} failed: {exc}") from exc
    changes = [] if result is None else [result] if isinstance(result, Change) else list(result)
    for change in changes:
        if not isinstance(change, Change):
            raise RemediationFailed(
                f"remediation {name_of(fix)} returned {type(change).__name__}, not a Change"
            )
    return changes


def recheck(
    item: pytest.Item,
    ctx: HostContext,
    fix: Callable[..., Any],
    changes: list[Change],
    first: AssertionError,
) -> None:
    """Run the check again on fresh facts; raise an AssertionError showing both attempts."""
    fresh = ctx.refresh_facts()
    funcargs = getattr(item, "funcargs", {})
    if "facts" in funcargs:
        funcargs["facts"] = fresh
    try:
        item.runtest()
    except AssertionError as second:
        done = "\n".join(f"  {c}" for c in changes) or "  (no change)"
        raise AssertionError(
            f"still failing after remediation\n-- before --\n{first}\n"
            f"-- remediation {name_of(fix)} --\n{done}\n-- after --\n{second}"
        ) from None
