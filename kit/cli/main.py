"""`hostkit`: a thin front over pytest and the kit's tools, with the shipped catalog as the
default checks.

    hostkit check [PYTEST OPTIONS...]    python -m pytest --pyargs hostkit_catalog.checks ...
    hostkit fix   [PYTEST OPTIONS...]    the same with --fix
    hostkit plan  [PYTEST OPTIONS...]    the same with --fix --dry-run: what --fix would do
    hostkit runs list|show|undo ...      python -m kit.runs ...
    hostkit report merge OUT IN...       python -m kit.report merge ...
    hostkit report diff OLD NEW          what changed outcome between two runs
    hostkit capture --hosts=H --profile P -o F.yaml   a profile pinned to golden host H
    hostkit catalog list|explain ...     python -m kit.catalog ...
    hostkit serve [OPTIONS...]           check on an interval, serve /metrics and /healthz

Every pytest option passes through unchanged (`-n auto`, `-k`, `--junitxml`, a directory
of your own checks). Every command exits with the codes of kit.cli.codes.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Sequence

from kit.cli import codes

SHIPPED = "hostkit_catalog.checks"

# The pytest options each run command adds to what it is given.
RUNS: dict[str, tuple[str, ...]] = {
    "check": (),
    "fix": ("--fix",),
    "plan": ("--fix", "--dry-run"),
}
SUMMARY = {
    "check": "check hosts against a profile (read-only)",
    "fix": "check, fix what fails, check again (--fix)",
    "plan": "show what fix would change, change nothing (--fix --dry-run)",
    "runs": "the fix runs recorded on hosts: list, show, undo",
    "report": "merge shards' reports, or diff two runs': report merge|diff ...",
    "catalog": "the checks and profiles: catalog list|explain",
    "capture": "write a profile pinned to what a golden host has: capture -o F.yaml",
    "serve": "check on an interval; serve Prometheus /metrics and /healthz",
}


def pytest_args(command: str, given: Sequence[str]) -> list[str]:
    """pytest's arguments for a run command: the shipped catalog, the command's own
    options, then everything given, in its order (its own directories of checks too)."""
    # The catalog goes first so that no option given last can take it as its value.
    return ["--pyargs", SHIPPED, *RUNS[command], *given]


def _pytest(command: str) -> Callable[[list[str]], int]:
    def run(given: list[str]) -> int:
        import pytest

        from kit.catalog.shipped import importable

        importable()  # a checkout's hostkit_catalog, next to kit
        return int(pytest.main(pytest_args(command, given)))

    return run


def _runs(given: list[str]) -> int:
    from kit import runs

    return runs.main(given, prog="hostkit runs")


def _report(given: list[str]) -> int:
    from kit import report

    return report.main(given, prog="hostkit report")


def _catalog(given: list[str]) -> int:
    from kit.catalog import describe

    return describe.main(given, prog="hostkit catalog")


def _capture(given: list[str]) -> int:
    from kit.capture import cli

    return cli.main(given, prog="hostkit capture")


def _serve(given: list[str]) -> int:
    from kit import serve

    return serve.main(given, "hostkit serve", pytest_args)


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    **{name: _pytest(name) for name in RUNS},
    "runs": _runs,
    "report": _report,
    "catalog": _catalog,
    "capture": _capture,
    "serve": _serve,
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: hostkit COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {SUMMARY[name]}" for name in COMMANDS]
    lines += ["", (__doc__ or "").split("\n\n", 1)[1].rstrip()]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        print(usage(), file=sys.stderr)
        return codes.USAGE
    command, rest = args[0], args[1:]
    if command in ("-h", "--help", "help"):
        print(usage())
        return codes.COMPLIANT
    if command not in COMMANDS:
        near = difflib.get_close_matches(command, list(COMMANDS), n=1)
        hint = f"; did you mean {near[0]}?" if near else f"; one of {', '.join(COMMANDS)}"
        print(f"hostkit: error: unknown command {command!r}{hint}", file=sys.stderr)
        return codes.USAGE
    try:
        return COMMANDS[command](rest)
    except SystemExit as exc:  # argparse's --help and mistakes, already mapped to the codes
        return exc.code if isinstance(exc.code, int) else codes.USAGE


if __name__ == "__main__":
    sys.exit(main())
