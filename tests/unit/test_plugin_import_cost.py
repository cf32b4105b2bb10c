"""Loading the plugin, which every pytest run in an environment with hostkit does, imports
no library and no host operation that only some runs use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# paramiko: ssh:// hosts; jinja2: templates and the HTML report; yaml: profiles, inventories,
# waivers; hypothesis: the kit's own property tests; tomlkit: containerd config edits.
ONLY_SOME_RUNS = ("paramiko", "jinja2", "yaml", "hypothesis", "tomlkit")

# What the plugin itself uses of the runner: the run id, the host lock and the journal (and
# the Change it reports, and the fixes that did not take on earlier runs). The operations
# load with the checks and fixes that call them.
PLUGIN_RUNNER = {
    "kit.runner",
    "kit.runner.change",
    "kit.runner.hostlock",
    "kit.runner.journal",
    "kit.runner.nottaken",
}
PLUGIN_RUNNER_DEPS = {
    "kit.runner.lifeline",  # hostlock's
    "kit.runner.runrecord",  # journal's
    "kit.runner.validate",  # the state directories' rule, at start-up and in hostlock
}


def modules_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout))


def test_importing_the_plugin_loads_no_library_or_host_operation_only_some_runs_use():
    loaded = modules_after("import kit.plugin.hooks")
    assert "kit.plugin.hooks" in loaded
    assert not loaded & set(ONLY_SOME_RUNS), sorted(loaded & set(ONLY_SOME_RUNS))
    runner = {m for m in loaded if m == "kit.runner" or m.startswith("kit.runner.")}
    assert runner <= PLUGIN_RUNNER | PLUGIN_RUNNER_DEPS, sorted(
        runner - PLUGIN_RUNNER - PLUGIN_RUNNER_DEPS
    )
    assert not {m for m in loaded if m.startswith("kit.edits")}


def test_the_runner_still_offers_every_operation_by_name():
    loaded = modules_after(
        "import kit.runner as r\n"
        "missing = [n for n in r.__all__ if not callable(getattr(r, n))]\n"
        "assert not missing, missing\n"
        "from kit.runner import set_sysctl, render, Change\n"
        "assert set_sysctl.__module__ == 'kit.runner.kernel.sysctl'\n"
        "assert callable(r.storage.mount) and not hasattr(r, 'no_such_operation')"
    )
    assert {"kit.runner.kernel", "kit.runner.templates", "kit.runner.storage"} <= loaded


def test_importing_the_plugin_reads_no_file_of_the_kit():
    # An audit hook sees every open() the import makes, the facts script's included.
    loaded = modules_after(
        "opened = []\n"
        "sys.addaudithook(lambda e, a: e == 'open' and opened.append(str(a[0])))\n"
        "import kit.plugin.hooks\n"
        "kit_files = [p for p in opened if '/kit/' in p and not p.endswith(('.py', '.pyc'))]\n"
        "assert not kit_files, kit_files"
    )
    assert "kit.facts.gather" in loaded
