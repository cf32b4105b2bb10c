"""A dry run promises only what --fix can do: on a host whose /proc/sys is read-only (as in
a container) and where a module cannot be loaded, --fix fails the live sysctl write and the
modprobe, so the plan says they cannot be done here instead of planning them.

The host is this machine seen from a private mount namespace (unshare -m) in which
/proc/sys is remounted read-only and /etc/sysctl.d, /etc/modules-load.d and
/etc/modprobe.d are empty tmpfs mounts: nothing the runs write outlives them.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin.fixruns import state_dirs
from tests.tiers import unavailable

ROOT = Path(__file__).resolve().parents[2]
MODULE = "hk_no_such_module"

CHECKS = """
import pytest
from kit.catalog.check import check
from remediations import kernel as fixes


@check("t.sysctl", "the sysctl has its value", fix=fixes.set_sysctl)
@pytest.mark.parametrize("key,value", [("vm.swappiness", WANTED)], ids=["swappiness"])
def test_sysctl(conn, key, value):
    live = conn.read("sysctl -n %s", key).stdout.strip()
    assert live == value, f"{key} is {live}, want {value}"


@check("t.module", "the module is loaded", fix=fixes.load_module)
@pytest.mark.parametrize("module", [MODULE], ids=["module"])
def test_module(conn, module):
    loaded = [ln.split()[0] for ln in conn.read("cat /proc/modules").stdout.splitlines()]
    assert module in loaded, f"module {module} is not loaded"
"""


@pytest.fixture
def confined(pytester: pytest.Pytester) -> list[str]:
    """The command line prefix running pytest in the confined mount namespace."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        unavailable("local", "a private mount namespace needs root and unshare")
    live = Path("/proc/sys/vm/swappiness").read_text().strip()
    wanted = str(int(live) + 1 if int(live) < 100 else int(live) - 1)
    header = f"WANTED = {wanted!r}\nMODULE = {MODULE!r}\n"
    pytester.makepyfile(test_checks=header + CHECKS)
    setup = " && ".join(
        [
            "mount --bind /proc/sys /proc/sys",
            "mount -o remount,bind,ro /proc/sys",
            *(f"mount -t tmpfs -o mode=755 hostkit-test {d}" for d in _confs()),
            'exec "$@"',
        ]
    )
    return ["unshare", "-m", "--propagation", "private", "sh", "-c", setup, "sh"]


def _confs() -> list[str]:
    return [
        d for d in ("/etc/sysctl.d", "/etc/modules-load.d", "/etc/modprobe.d") if Path(d).is_dir()
    ]


def run(pytester: pytest.Pytester, prefix: list[str], *args: str) -> dict[str, dict]:
    """The confined run's JSON results by check id."""
    report = pytester.path / "run.json"
    command = [
        *prefix,
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--hosts=local://",
        f"--report-json={report}",
        *state_dirs(pytester),
        *args,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        command, cwd=pytester.path, env=env, capture_output=True, text=True, timeout=300
    )
    assert report.exists(), proc.stdout + proc.stderr + shlex.join(command)
    results = json.loads(report.read_text())["results"]
    return {r["check"]: r for r in results}


def test_the_plan_says_what_the_fix_cannot_do_here(pytester, confined):
    fixed = run(pytester, confined, "--fix")
    # What --fix does on such a host: both fixes fail, and the host is left as it was.
    for check in ("t.sysctl", "t.module"):
        statuses = [f["status"] for f in fixed[check]["fixes"]]
        assert fixed[check]["outcome"] == "error" and "failed" in statuses, fixed[check]
    planned = run(pytester, confined, "--fix", "--dry-run")
    plans = {check: [f["summary"] for f in r["fixes"]] for check, r in planned.items()}
    # The plan does not promise them: it says why they cannot be done here.
    (sysctl,) = plans["t.sysctl"]
    assert sysctl.startswith("cannot plan: ") and "vm.swappiness" in sysctl, plans
    assert "read-only" in sysctl and "-> " not in sysctl, sysctl
    (module,) = plans["t.module"]
    assert module.startswith("cannot plan: ") and MODULE in module, plans
    assert "loaded" not in module.partition(":")[2].replace("cannot be loaded", ""), module
