"""A change's summary as a dry run's plan: what would happen, not what happened.

The runner's operations return one summary whether they ran or were planned, worded as
done ("installed containerd", "/etc/x.conf: created"); a plan that says "installed" reads
as a promise kept. Each clause (between `; ` and `: `) has its first verb of the runner's
vocabulary put in the conditional: leading with an object after it, the active voice
("would install containerd"), otherwise the passive ("/etc/x.conf: would be created").
"""

from __future__ import annotations

import re

# The past tenses the runner's and the catalog's summaries use, and their bare forms.
_BASE = {
    "added": "add",
    "applied": "apply",
    "changed": "change",
    "commented": "comment",
    "created": "create",
    "deleted": "delete",
    "disabled": "disable",
    "downloaded": "download",
    "enabled": "enable",
    "extracted": "extract",
    "freed": "free",
    "installed": "install",
    "loaded": "load",
    "masked": "mask",
    "mounted": "mount",
    "rebooted": "reboot",
    "refreshed": "refresh",
    "reloaded": "reload",
    "removed": "remove",
    "replaced": "replace",
    "restarted": "restart",
    "set": "set",
    "started": "start",
    "stepped": "step",
    "stopped": "stop",
    "unloaded": "unload",
    "unmasked": "unmask",
    "unmounted": "unmount",
    "updated": "update",
    "written": "write",
}
_CLAUSES = re.compile(r"(; |: )")


def conditional(summary: str) -> str:
    """The summary with each clause's first past-tense verb put in the conditional."""
    return "".join(_clause(part) for part in _CLAUSES.split(summary))


def _clause(text: str) -> str:
    words = text.split(" ")
    for i, word in enumerate(words):
        bare = word.rstrip(",")
        if bare in ("would", "will"):
            return text  # said in the conditional already
        if bare not in _BASE:
            continue
        has_object = i == 0 and bare == word and i + 1 < len(words) and words[i + 1][:1] != "("
        if has_object:
            words[i] = f"would {_BASE[bare]}"
        else:
            words[i] = f"would be {word}"
        return " ".join(words)
    return text
