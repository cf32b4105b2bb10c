"""The facts a check is given: a Facts that asks its source for each field it reads and
records which fields those were.

After a fix the check runs again on fresh facts: the fields it read are the sections to
gather again (kit.facts.sections), not the whole answer. The source (the host's context,
kit.plugin.hosts) answers each read with the field's current value, gathering it again
first when a write made it stale. A view is a Facts, so `isinstance` and the runner's
operations take it as they take any; copies of it (dataclasses.replace, copy, pickle) are
plain Facts of what it shows.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from kit.facts.model import Facts

_FIELDS = frozenset(f.name for f in dataclasses.fields(Facts))


class Source(Protocol):
    def fact(self, name: str) -> object:
        """The named field's current value."""
        ...


class FactsView(Facts):
    """A Facts whose fields are its source's, read on access and recorded."""

    __slots__ = ("_reads", "_source")

    def __new__(cls, source: Source | None = None, /, **fields: Any) -> Facts:
        if source is None:
            # dataclasses.replace(view, ...) builds its class from every field.
            return Facts(**fields)
        view = object.__new__(cls)
        object.__setattr__(view, "_source", source)
        object.__setattr__(view, "_reads", set())
        return view

    def __init__(self, *args: Any, **fields: Any) -> None:
        """The fields are the source's: nothing of its own to set."""

    def __getattribute__(self, name: str) -> Any:
        # One set lookup for a method or a slot; a field is recorded and asked for.
        if name in _FIELDS:
            object.__getattribute__(self, "_reads").add(name)
            return object.__getattribute__(self, "_source").fact(name)
        return object.__getattribute__(self, name)

    def snapshot(self) -> Facts:
        """A plain Facts of every field as the source has it now."""
        return Facts(**{name: getattr(self, name) for name in _FIELDS})

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FactsView):
            other = other.snapshot()
        return isinstance(other, Facts) and self.snapshot() == other

    def __repr__(self) -> str:
        # Not every field's: a failing assertion shows its operands' reprs, and reading
        # them all would record them all (and gather again every stale one).
        source = object.__getattribute__(self, "_source")
        reads = ", ".join(sorted(object.__getattribute__(self, "_reads"))) or "nothing"
        return f"<facts of {getattr(source, 'label', type(source).__name__)}, read: {reads}>"

    __hash__ = None  # type: ignore[assignment]  # as Facts: its maps are not hashable

    def __reduce_ex__(self, protocol: Any) -> Any:
        return self.snapshot().__reduce_ex__(protocol)


def reads_of(facts: object) -> frozenset[str] | None:
    """The fields a view was read for so far; None for anything else (unknown reads)."""
    if isinstance(facts, FactsView):
        return frozenset(object.__getattribute__(facts, "_reads"))
    return None
