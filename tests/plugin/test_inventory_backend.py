"""--inventory with Ansible host patterns, through either backend, and -v saying which."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

INVENTORY = """
[web]
web1 ansible_connection=local
web2 ansible_host=192.0.2.1

[db]
db1 ansible_host=192.0.2.2

[all:vars]
ansible_user=deploy
"""
SUITE = """
def test_runs(host):
    assert host.run("true").rc == 0
"""


@pytest.fixture(autouse=True)
def this_checkout(monkeypatch):
    # The pytest subprocess imports kit from this checkout, whatever is installed.
    monkeypatch.setenv("PYTHONPATH", str(ROOT))


needs_ansible = pytest.mark.skipif(
    shutil.which("ansible-inventory") is None, reason="ansible-core is not installed"
)


@pytest.mark.parametrize(
    ("backend", "header"),
    [
        ("builtin", "*hosts.ini read by hostkit's built-in parser*"),
        pytest.param(
            "ansible", "*hosts.ini read by ansible-inventory --list*", marks=needs_ansible
        ),
    ],
)
def test_a_host_pattern_selects_through_either_backend(pytester, backend, header):
    pytester.makefile(".ini", hosts=INVENTORY)
    pytester.makepyfile(test_suite=SUITE)
    result = pytester.runpytest_subprocess(
        "-v", "--inventory=hosts.ini", f"--inventory-backend={backend}", "--hosts=web:!web2"
    )
    result.stdout.fnmatch_lines([header])
    # Only web1, the local one: web2 and db1 are addresses nothing answers at.
    result.assert_outcomes(passed=1)


@needs_ansible
def test_an_inventory_ansible_cannot_decrypt_fails_at_once_with_one_line(pytester):
    pytester.makefile(".ini", hosts=INVENTORY)
    (pytester.path / "vault-pass").write_text("not-the-users-password\n")
    subprocess.run(
        ["ansible-vault", "encrypt", "--vault-password-file=vault-pass", "hosts.ini"],
        cwd=pytester.path,
        check=True,
        capture_output=True,
        stdin=subprocess.DEVNULL,
    )
    pytester.makepyfile(test_suite=SUITE)
    for backend, complaint in (
        ("ansible", "*ansible-inventory -i hosts.ini --list failed: *vault*"),
        (
            "builtin",
            "*hosts.ini: a vault-encrypted file is not supported by the built-in parser;"
            " use --inventory-backend=ansible*",
        ),
    ):
        result = pytester.runpytest_subprocess(
            "--inventory=hosts.ini", f"--inventory-backend={backend}", timeout=120
        )
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([complaint])
