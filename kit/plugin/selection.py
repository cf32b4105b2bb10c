"""--check and --skip-check: choose checks by id (globs), on top of the profile.

-k and -m keep their pytest meaning; these match the id a check declares, which neither
the test name nor its markers carry reliably. A pattern that matches no check is a
mistake, reported once, not a run that quietly checks less.
"""

from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import Any

import pytest

from kit.catalog.check import meta_of

WORKER_KEY = "hostkit_selection_error"


def patterns(values: list[str] | None) -> list[str]:
    """Each option may be given several times, each time with a comma-separated list."""
    return [p.strip() for value in values or () for p in value.split(",") if p.strip()]


class CheckSelection:
    def __init__(self, wanted: list[str], skipped: list[str]) -> None:
        self.wanted = wanted
        self.skipped = skipped
        self.error: str | None = None

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> Iterator[None]:
        # After the profile has chosen its checks, so the patterns match within them.
        result = yield
        ids = {m.id for m in map(meta_of, items) if m is not None}
        for option, pats in (("--check", self.wanted), ("--skip-check", self.skipped)):
            for pat in pats:
                if not any(fnmatchcase(i, pat) for i in ids):
                    message = f"{option} {pat}: matches no check{_near(pat, ids)}"
                    if not hasattr(config, "workerinput"):
                        raise pytest.UsageError(message)
                    # An xdist worker cannot stop the run; it runs nothing and tells the
                    # controller, which reports the mistake as a usage error.
                    config.workeroutput[WORKER_KEY] = message  # type: ignore[attr-defined]
                    config.hook.pytest_deselected(items=list(items))
                    items.clear()
                    return result
        keep, dropped = [], []
        for item in items:
            meta = meta_of(item)
            check_id = meta.id if meta else None
            chosen = not self.wanted or (
                check_id is not None and any(fnmatchcase(check_id, p) for p in self.wanted)
            )
            if check_id is not None and any(fnmatchcase(check_id, p) for p in self.skipped):
                chosen = False
            (keep if chosen else dropped).append(item)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = keep
        return result

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        message = getattr(node, "workeroutput", {}).get(WORKER_KEY)
        if message:
            self.error = message

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.error:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.error:
            terminalreporter.write_line(f"ERROR: {self.error}", red=True)


def _near(pattern: str, ids: set[str]) -> str:
    import difflib

    close = difflib.get_close_matches(pattern, sorted(ids), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""
