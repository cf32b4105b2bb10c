"""YAML from the operator's files (waivers, inventories and their variables, profiles).

PyYAML builds an alias as a second reference to its anchor's value, so a document of a
few hundred bytes can stand for a billion values ("billion laughs"), or contain itself;
the first code that walks it (str(), json.dumps, a report) exhausts memory or never ends.
Ansible inventories use anchors and merge keys, so aliases are not refused: what they
add once expanded is bounded, and an alias inside its own anchor is refused. Strings are
made encodable (kit/encodable.py) and errors are one line.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from kit import encodable

if TYPE_CHECKING:
    import yaml

# Values aliases may add to a document once expanded: far above what merge keys add to
# a fleet's inventory, far below what exhausts memory.
ALIAS_BUDGET = 1_000_000


@cache
def loader(base: type[yaml.SafeLoader] | None = None) -> type[yaml.SafeLoader]:
    """A SafeLoader (or `base`, a subclass of one) whose aliases are bounded."""
    import yaml

    class Bounded(base or yaml.SafeLoader):  # type: ignore[misc]
        def compose_document(self) -> yaml.Node:
            node = super().compose_document()
            found = _expansion_problem(node)
            if found:
                raise yaml.composer.ComposerError(None, None, *found)
            return node

    return Bounded


def load(text: str, loader_class: type[yaml.SafeLoader] | None = None) -> Any:
    """The document in text, its strings encodable; yaml.YAMLError when it is bad."""
    import yaml

    return encodable.data(yaml.load(text, Loader=loader_class or loader()))  # noqa: S506


def problem(exc: yaml.YAMLError) -> str:
    """A YAML error as one line: where, then what."""
    mark = getattr(exc, "problem_mark", None)
    what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return at + " ".join(str(what).split())


def _expansion_problem(root: yaml.Node) -> tuple[str, yaml.Mark] | None:
    """What is wrong with the node graph's expansion and where, or None. Each distinct
    node is visited once (a memo of its expanded size), so a bomb costs its size as
    written; the first node found to expand past the budget is named."""
    sizes: dict[int, int] = {}
    ancestors: set[int] = set()
    # Depth first with an explicit stack (a deep document must not exhaust Python's
    # recursion); a node's second entry sums its children once they are all sized.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            ancestors.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(kid)] for kid in _children(node))
            if sizes[id(node)] - len(sizes) > ALIAS_BUDGET:
                what = f"aliases expand this past {ALIAS_BUDGET:,} more values; write it out"
                return what, node.start_mark
            continue
        if id(node) in sizes:
            continue
        ancestors.add(id(node))
        stack.append((node, True))
        for kid in _children(node):
            if id(kid) in ancestors:
                return "an alias inside its own anchor: the value contains itself", kid.start_mark
            stack.append((kid, False))
    return None


def _children(node: yaml.Node) -> list[yaml.Node]:
    import yaml

    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []
