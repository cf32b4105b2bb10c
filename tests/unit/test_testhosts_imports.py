"""kit.testhosts's modules import each other in one direction only.

Imports inside functions count too: a deferred import that closes a circle still ties
the two modules together (issue 22 names fleet, ready and state).
"""

from __future__ import annotations

import ast
from pathlib import Path

import kit.testhosts

PACKAGE = "kit.testhosts"
DIRECTORY = Path(kit.testhosts.__file__).parent


def imported_modules(path: Path, siblings: set[str]) -> set[str]:
    """The package's own modules that the file at path imports, anywhere in it."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:  # from kit.testhosts import fleet, ready
                names = [f"{PACKAGE}.{alias.name}" for alias in node.names]
            else:
                names = [node.module]
        else:
            continue
        for name in names:
            module = name.removeprefix(f"{PACKAGE}.")
            if name.startswith(f"{PACKAGE}.") and module in siblings:
                found.add(module.split(".")[0])
    return found


def import_graph() -> dict[str, set[str]]:
    modules = {p.stem: p for p in DIRECTORY.glob("*.py") if p.stem != "__init__"}
    return {name: imported_modules(path, set(modules)) - {name} for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle, each as the path that closes it (first module repeated last)."""
    found: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        for target in sorted(graph.get(module, ())):
            if target == path[0]:
                found.append([*path, target])
            elif target not in path and target > path[0]:  # each circle once, from its least
                visit(target, [*path, target])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_the_circle_finder_finds_a_deferred_import_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_imports_inside_functions(tmp_path):
    source = tmp_path / "state.py"
    source.write_text(
        "from kit.testhosts import procs\n"
        "def down():\n"
        "    from kit.testhosts.fleet import down\n"
        "    import kit.testhosts.ready\n"
    )
    found = imported_modules(source, {"procs", "fleet", "ready", "state"})
    assert found == {"procs", "fleet", "ready"}


def test_no_import_circles_in_kit_testhosts():
    graph = import_graph()
    assert {"fleet", "ready", "state"} <= set(graph)
    assert circles(graph) == []
