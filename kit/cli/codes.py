"""The one set of exit codes of every hostkit command: a run (`hostkit check|fix|plan`,
`python -m pytest`), `hostkit report merge`, `hostkit runs` and `hostkit catalog`.

A run's codes are kit.plugin.outcomes'; the tools reuse them, so a script reads any hostkit
command's status the same way: 0 compliant (or done), 1 non-compliant (or a host's part
failed), 10 only unreachable hosts, 4 a usage mistake (nothing ran, nothing written).
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from kit.plugin.outcomes import (
    EXIT_COMPLIANT as COMPLIANT,
)
from kit.plugin.outcomes import (
    EXIT_NON_COMPLIANT as NON_COMPLIANT,
)
from kit.plugin.outcomes import (
    EXIT_UNREACHABLE as UNREACHABLE,
)
from kit.plugin.outcomes import (
    EXIT_USAGE as USAGE,
)

__all__ = ["COMPLIANT", "NON_COMPLIANT", "UNREACHABLE", "USAGE", "UsageParser"]


class UsageParser(argparse.ArgumentParser):
    """An argument parser whose mistakes exit with USAGE, as pytest's do (argparse's own
    status, 2, is pytest's "interrupted")."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(USAGE)
