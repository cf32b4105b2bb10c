"""Extra facts-only checks, $HKB_EXTRA of them (none by default), to measure per-check cost."""

import os

import pytest

from kit.catalog.check import check

EXTRA = range(int(os.environ.get("HKB_EXTRA", "0")))


@check("bench.extra", "A facts-only check that costs no round trip")
@pytest.mark.parametrize("n", EXTRA)
def test_extra(facts, n):
    assert facts.sysctls.get("net.ipv4.ip_forward") is not None
