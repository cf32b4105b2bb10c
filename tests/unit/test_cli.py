"""The `hostkit` command: its subcommands hand over to pytest and the kit's tools, and every
one of them exits with the one set of codes (kit.cli.codes)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from kit.cli import codes
from kit.cli import main as cli
from kit.plugin import outcomes

ROOT = Path(__file__).resolve().parents[2]


def test_the_command_is_installed_as_hostkit():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"] == {"hostkit": "kit.cli.main:main"}


def test_the_codes_are_the_runs_codes():
    assert (
        (codes.COMPLIANT, codes.NON_COMPLIANT, codes.UNREACHABLE, codes.USAGE)
        == (
            outcomes.EXIT_COMPLIANT,
            outcomes.EXIT_NON_COMPLIANT,
            outcomes.EXIT_UNREACHABLE,
            outcomes.EXIT_USAGE,
        )
        == (0, 1, 10, pytest.ExitCode.USAGE_ERROR)
    )


@pytest.mark.parametrize(
    ("command", "added"),
    [
        ("check", []),
        ("fix", ["--fix"]),
        ("plan", ["--fix", "--dry-run"]),
    ],
)
def test_run_commands_pass_every_pytest_option_through_with_the_shipped_catalog(command, added):
    given = ["--hosts=ssh://node1", "-k", "swap", "--report-json", "-", "-n", "2"]
    args = cli.pytest_args(command, given)
    assert args == ["--pyargs", cli.SHIPPED, *added, *given]


def test_an_unknown_command_is_one_line_and_a_usage_error(capsys):
    assert cli.main(["chek", "--hosts=local://"]) == codes.USAGE
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == "hostkit: error: unknown command 'chek'; did you mean check?"


def test_no_command_prints_the_commands_and_is_a_usage_error(capsys):
    assert cli.main([]) == codes.USAGE
    out = capsys.readouterr().err
    for name in ("check", "fix", "plan", "runs", "report", "catalog"):
        assert f"\n  {name} " in out


def test_help_lists_the_commands_and_succeeds(capsys):
    assert cli.main(["--help"]) == codes.COMPLIANT
    assert "hostkit plan" in capsys.readouterr().out


def test_catalog_list_goes_to_kit_catalog(capsys):
    assert cli.main(["catalog", "list", "--profile", "kubernetes-node"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].split()[:3] == ["ID", "TITLE", "SEVERITY"]
    assert any(row.startswith("k8s.swap.off ") for row in rows)


@pytest.mark.parametrize(
    "argv",
    [
        ["catalog", "explain", "k8s.swap.of"],  # a typo of a check id
        ["catalog", "lst"],  # a typo of a subcommand
        ["report", "merge", "out.json"],  # no inputs
        ["report", "mrge", "out.json", "a.json"],
        ["runs", "--hosts=local://", "undo"],  # no run id
    ],
)
def test_every_usage_mistake_exits_with_the_runs_usage_code(argv, capsys):
    assert cli.main(argv) == codes.USAGE
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err


def test_python_m_kit_catalog_exits_as_pytest_does_on_a_typo():
    done = subprocess.run(
        [sys.executable, "-m", "kit.catalog", "explain", "k8s.swap.of"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, done.stderr
    assert "did you mean k8s.swap.off" in done.stderr


def test_python_m_kit_cli_runs_the_command():
    done = subprocess.run(
        [sys.executable, "-m", "kit.cli", "catalog", "explain", "k8s.swap.off"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("k8s.swap.off: ")
