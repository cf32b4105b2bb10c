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


# What a worker of a plain read-only run may not load: the libraries above, and the fix
# flow's own machinery (the host lock and journal session of kit.plugin.fixhost, the
# runner's write operations, the text edits, the remediations) and the report writers.
NOT_IN_A_READ_ONLY_WORKER = (
    *ONLY_SOME_RUNS,
    "kit.plugin.fixhost",
    "kit.edits",
    "remediations",
    "kit.reports.json_report",
    "kit.reports.html_report",
)

# Each worker writes the modules it holds as its first test begins, before the test's
# fixtures, so what the test itself uses is not counted.
_WORKER_PLUGIN = """
import json, os, sys
import pytest

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    path = os.path.join(os.environ["MODULES_OUT"], os.environ["PYTEST_XDIST_WORKER"] + ".json")
    if not os.path.exists(path):
        with open(path, "w") as fh:
            json.dump(sorted(sys.modules), fh)
"""


def test_a_read_only_run_worker_loads_no_fix_machinery_or_library_only_some_runs_use(tmp_path):
    (tmp_path / "worker_modules.py").write_text(_WORKER_PLUGIN)
    (tmp_path / "test_read_only.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.parametrize('n', range(4))\n"
        "def test_kernel(facts, n):\n    assert facts.kernel\n"
    )
    out = tmp_path / "modules"
    out.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]),
        "MODULES_OUT": str(out),
    }
    # local:// is the one host here: reading facts of this machine writes nothing.
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-n", "2", "-p", "worker_modules",
         "-p", "no:cacheprovider", "--hosts=local://", str(tmp_path / "test_read_only.py")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    taken = sorted(out.glob("gw*.json"))
    assert taken, "no worker ran a test"
    for path in taken:
        loaded = set(json.loads(path.read_text()))
        assert "kit.plugin.hooks" in loaded
        heavy = sorted(
            m for m in loaded for h in NOT_IN_A_READ_ONLY_WORKER if m == h or m.startswith(h + ".")
        )
        assert not heavy, f"{path.stem} loaded {heavy}"
