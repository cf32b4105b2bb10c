"""The plugin's warm-up: one host's failure, whatever its kind, stays that host's.
A failed gather is met once per host, not once per check."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest

from kit.connection.spec import HostSpec
from kit.errors import CommandTimeout
from kit.plugin import warmup
from kit.plugin.hosts import HostContext


class _BrokenGather(HostContext):
    # Stands in for a defect anywhere below the facts gather (a parser, a transport) that
    # escapes as something other than a KitError.
    def _gather(self):
        raise RuntimeError("defect in one host's gather")


def test_a_non_kit_error_in_one_host_does_not_abort_the_warm_up():
    broken = _BrokenGather(HostSpec("local"), "broken", "h0", {})
    fine = HostContext(HostSpec("local"), "local://", "local", {})
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda c: warmup.warm(c, True), [broken, fine]))
    assert fine._facts is not None
    # Not swallowed for good: the host's own checks meet the error when they read facts.
    with pytest.raises(RuntimeError, match="defect"):
        broken.facts  # noqa: B018


def test_a_gather_that_timed_out_is_not_sent_again_until_a_refresh(tmp_path, monkeypatch):
    # A kubelet that hangs, under a gather limit shorter than the probe's own: the gather
    # times out. Each start of the kubelet leaves a line, so the file counts the gathers.
    starts = tmp_path / "starts"
    bindir = tmp_path / "bin"
    bindir.mkdir()
    hung = bindir / "kubelet"
    hung.write_text(f"#!/bin/sh\necho started >> {starts}\nexec sleep 600\n")
    hung.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    ctx = HostContext(HostSpec("local"), "local://", "local", {}, gather_timeout=2)
    with pytest.raises(
        CommandTimeout, match=r"after 2s: the facts gather \(kit/facts/gather.sh\)$"
    ):
        ctx.facts  # noqa: B018
    with pytest.raises(CommandTimeout):
        ctx.facts  # noqa: B018
    assert starts.read_text().count("started") == 1
    # A refresh (after a fix wrote to the host) asks again.
    with pytest.raises(CommandTimeout):
        ctx.refresh_facts()
    assert starts.read_text().count("started") == 2
