"""What runs in the process forked for one check run: pytest.main, its output to a file.

This module is preloaded in the warm process runs are forked from (kit.serve.runs), so
pytest, the kit's plugin and the shipped catalog's location are imported once, not per run;
what a run collects (the checks, their conftest files, the profile) is read anew by each.
"""

from __future__ import annotations

import os
import sys

import pytest

import kit.plugin.hooks  # noqa: F401  # imported warm: each run's process starts with it
from kit.catalog.shipped import importable

importable()  # a checkout's hostkit_catalog, next to kit


def run(args: list[str], log_path: str) -> None:
    """Run pytest with args, its terminal output (standard output and error) to log_path;
    the process exits with the run's code."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.exit(int(pytest.main(args)))
