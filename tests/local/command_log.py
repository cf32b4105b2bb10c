"""A real local connection that also records every command line it runs."""

from __future__ import annotations

import kit
from kit.connection.local import LocalConnection


class RecordingConnection(LocalConnection):
    def __init__(self, path_prefix: str | None = None):
        super().__init__(kit.connect("local://").spec)
        self.sent: list[str] = []
        # Tests may put fake tools first on PATH for what must not run here for real.
        self.path_prefix = path_prefix

    def _exec(self, cmdline, *, stdin, timeout):
        self.sent.append(cmdline)
        if self.path_prefix:
            cmdline = f"PATH={self.path_prefix}:$PATH; export PATH; {cmdline}"
        return super()._exec(cmdline, stdin=stdin, timeout=timeout)

    def sent_any(self, *words: str) -> bool:
        return any(w in c for c in self.sent for w in words)
