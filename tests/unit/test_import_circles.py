"""No module of kit/ imports, however indirectly, a module that imports it back.

Every import statement counts, wherever it stands: at module level, under
`if TYPE_CHECKING:`, or inside a function. An import deferred into a function, or hidden
from the interpreter behind TYPE_CHECKING, only to get past a circle leaves the two modules
depending on each other all the same: neither can be read, tested or changed alone.

`import a.b.c` and `from a.b import c` depend on the module a.b.c; `from a.b import name`
(a name that is not a submodule) on the package a.b, its `__init__`. The parent packages
Python runs first are not counted: a package's `__init__` naming its own submodules (as
kit.runner's lazy exports do) is the package's table of contents, not a dependency.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def modules(root: Path, package: str) -> dict[str, Path]:
    """Each module of the package by dotted name: a.b for a/b.py and for a/b/__init__.py."""
    found: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, tree: ast.AST, known: dict[str, Path]) -> dict[str, int]:
    """The modules of `known` the module imports, each with the line of its first import."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: dict[str, int] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition(".")[0]
                base = f"{anchor}.{base}" if base else anchor
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            ]
        else:
            continue
        for dotted in names:
            # `import kit.plugin.fix.OUTCOME` cannot be, but `import kit.x.y` of a module not
            # in kit/ (a typo, a removed module) is left to the interpreter to report.
            while dotted and dotted not in known:
                dotted = dotted.rpartition(".")[0]
            if dotted and dotted != name:
                found.setdefault(dotted, node.lineno)
    return found


def import_graph(root: Path, package: str) -> dict[str, dict[str, int]]:
    known = modules(root, package)
    return {
        name: imported(name, path, ast.parse(path.read_text(), str(path)), known)
        for name, path in known.items()
    }


def circles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One import circle through each group of modules that reach each other, as the path
    of modules from the group's first (by name) back to itself."""
    # Tarjan's strongly connected components, iteratively: kit/ has a few hundred modules.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, targets = work[-1]
            advanced = False
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    advanced = True
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return [_path_through(group[0], set(group), graph) for group in groups]


def _path_through(first: str, group: set[str], graph: dict[str, dict[str, int]]) -> list[str]:
    """The shortest import path from `first` back to itself within its group."""
    paths = {first: [first]}
    queue = [first]
    while queue:
        node = queue.pop(0)
        for target in sorted(graph[node]):
            if target == first:
                return [*paths[node], first]
            if target in group and target not in paths:
                paths[target] = [*paths[node], target]
                queue.append(target)
    raise AssertionError(f"{first} is in no circle")  # a group always closes on itself


def describe(path: list[str], graph: dict[str, dict[str, int]]) -> str:
    """`a (line 3) -> b (line 9) -> a`: where each module imports the next."""
    steps = [f"{a} (line {graph[a][b]})" for a, b in itertools.pairwise(path)]
    return " -> ".join([*steps, path[-1]])


def test_kit_has_no_import_circle():
    graph = import_graph(ROOT, "kit")
    assert len(graph) > 100  # the walk found the kit, not an empty directory
    found = [describe(path, graph) for path in circles(graph)]
    assert not found, "import circles in kit/:\n" + "\n".join(found)


def _package(tmp_path: Path, files: dict[str, str]) -> dict[str, dict[str, int]]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return import_graph(tmp_path, "pkg")


def test_a_circle_through_a_deferred_or_type_checking_import_is_found_and_named(tmp_path):
    graph = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/hub.py": "from pkg import leaf\n",
            "pkg/leaf.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n"
                "    from pkg.hub import Thing\n"
            ),
            "pkg/a.py": "import pkg.b\n",
            "pkg/b.py": "def late():\n    from . import c\n",
            "pkg/c.py": "from .a import name\n",
            "pkg/alone.py": "import os\nfrom pkg import hub\n",
        },
    )
    assert sorted(describe(p, graph) for p in circles(graph)) == [
        "pkg.a (line 1) -> pkg.b (line 2) -> pkg.c (line 1) -> pkg.a",
        "pkg.hub (line 1) -> pkg.leaf (line 3) -> pkg.hub",
    ]


def test_a_package_importing_its_own_submodules_is_no_circle(tmp_path):
    graph = _package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "from pkg.sub.op import run\n",
            "pkg/sub/op.py": "from pkg.sub.change import Change\n",
            "pkg/sub/change.py": "",
        },
    )
    assert graph["pkg.sub.op"] == {"pkg.sub.change": 1}
    assert circles(graph) == []
