"""The README's Layout section shows every module of the plugin, one line each, so a
newcomer finds the module a piece of work lives in."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_layout_names_each_plugin_module_on_a_line_of_its_own():
    readme = (ROOT / "README.md").read_text()
    layout = readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    plugin = layout.split("`kit/plugin/`", 1)[1].split("\n\n", 1)[0]
    listed = re.findall(r"^  - `(\w+\.py)`: \S", plugin, re.MULTILINE)
    modules = sorted(p.name for p in (ROOT / "kit" / "plugin").glob("*.py"))
    modules.remove("__init__.py")
    assert sorted(listed) == modules
    assert len(listed) == len(set(listed))
