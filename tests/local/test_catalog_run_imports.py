"""A run of the shipped catalog on this machine imports what its checks use, not what --fix,
ssh:// hosts, templates or the property tests would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

RECORD = """
import json, os, sys


def pytest_unconfigure(config):
    with open(os.environ["HOSTKIT_MODULES_LOG"], "w") as log:
        json.dump(sorted(sys.modules), log)
"""

# The profile is YAML, so yaml is the run's own; these are not. The runner modules listed
# are operations that no shipped check or remediation imports: they load only with a user's
# fix that calls them.
NOT_USED = (
    "paramiko",
    "jinja2",
    "hypothesis",
    "tomlkit",
    "kit.inventory",
    "kit.reports.html_report",
    "kit.runner.archives",
    "kit.runner.commands",
    "kit.runner.storage",
    "kit.runner.users",
    "kit.edits.sudoers",
)


def modules_of_run(tmp_path: Path, *args: str) -> set[str]:
    (tmp_path / "hostkit_record_modules.py").write_text(RECORD)
    log = tmp_path / "modules.json"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]),
        "HOSTKIT_MODULES_LOG": str(log),
    }
    command = [sys.executable, "-m", "pytest", "checks", "--hosts=local://", "-q", "-p"]
    command += ["no:cacheprovider", "-p", "no:xdist", "-p", "hostkit_record_modules"]
    command += [f"--junitxml={tmp_path / 'junit.xml'}", *args]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    # This machine is no Kubernetes node: checks fail (1); a usage or internal error does not.
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert "collected" in done.stdout or " passed" in done.stdout, done.stdout
    return set(json.loads(log.read_text()))


@pytest.mark.parametrize("args", [("--co",), ()], ids=["collect-only", "compliance"])
def test_a_local_catalog_run_loads_only_what_its_checks_use(tmp_path, args):
    loaded = modules_of_run(tmp_path, *args)
    assert {"kit.plugin.hooks", "hostkit_catalog.remediations.kernel"} <= loaded
    assert not loaded & set(NOT_USED), sorted(loaded & set(NOT_USED))
