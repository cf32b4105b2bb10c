"""kit.testhosts.image.build_once: a cache entry is built once, whole or not at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from kit.testhosts import image


def test_an_entry_is_built_once_then_reused(tmp_path):
    calls: list[Path] = []

    def build(work: Path) -> None:
        calls.append(work)
        (work / "rootfs").mkdir()

    first = image.build_once(tmp_path / "entries", "k1", build)
    again = image.build_once(tmp_path / "entries", "k1", build)
    assert first == again == tmp_path / "entries" / "k1"
    assert (first / "rootfs").is_dir()
    assert len(calls) == 1 and calls[0] != first  # built beside the entry, then renamed


def test_a_failed_build_leaves_no_entry_and_no_build_directory(tmp_path):
    def build(work: Path) -> None:
        (work / "half").write_text("x")
        raise RuntimeError("mmdebstrap died")

    entries = tmp_path / "entries"
    with pytest.raises(RuntimeError, match="mmdebstrap died"):
        image.build_once(entries, "k2", build)
    assert sorted(p.name for p in entries.iterdir()) == ["k2.lock"]
