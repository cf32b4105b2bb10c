"""Calling a remediation and normalising what it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from kit.errors import KitError
from kit.remediation import Target
from kit.runner.change import Change


def apply(fix: Callable[..., Any], target: Target, params: Mapping[str, Any]) -> list[Change]:
    """Run fix(target, **params); it returns a Change, several, or None for no change."""
    result = fix(target, **params)
    if result is None:
        return []
    changes = [result] if isinstance(result, Change) else list(result)
    for change in changes:
        if not isinstance(change, Change):
            raise KitError(f"{fix.__qualname__} returned {type(change).__name__}, not a Change")
    return changes
