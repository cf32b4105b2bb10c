"""Where the shipped catalog is: the checkout's checks/, or the installed hostkit_catalog.

Kept apart from kit.catalog.describe so that a run finds it without loading the catalog's model.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from kit.errors import KitError

ROOT = Path(__file__).resolve().parents[2]


def shipped() -> Path:
    """The shipped catalog's checks directory (profiles/ in it): the checkout's checks/, or
    hostkit_catalog/checks where the wheel installed it."""
    importable()
    spec = importlib.util.find_spec("hostkit_catalog.checks")
    if spec is None or spec.origin is None:
        raise KitError("the shipped catalog (hostkit_catalog.checks) is not installed")
    return Path(spec.origin).parent


def importable() -> None:
    """Make hostkit_catalog importable from a checkout, where it sits next to kit."""
    # Appended, so the checkout's other top-level directories never shadow a run's modules.
    if (ROOT / "hostkit_catalog").is_dir() and str(ROOT) not in sys.path:
        sys.path.append(str(ROOT))
