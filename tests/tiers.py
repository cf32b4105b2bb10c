"""A tier that cannot start skips outside CI and fails in CI, where it must run."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(tier: str, reason: str) -> NoReturn:
    message = f"{tier} tier unavailable: {reason}"
    if in_ci():
        pytest.fail(message, pytrace=False)
    pytest.skip(message)
