"""The directories of checks a run would load from the paths it is given, as pytest walks
them: a file's own directory, and every directory below a given one that holds a test
module, except those pytest would not enter (`norecursedirs`, a virtualenv)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatch
from pathlib import Path

# pytest's own default for norecursedirs.
NORECURSE = ("*.egg", ".*", "_darcs", "build", "CVS", "dist", "node_modules", "venv", "{arch}")


def check_dirs(paths: Iterable[Path], skip: Sequence[str] = NORECURSE) -> list[Path]:
    dirs: dict[Path, None] = {}
    for path in paths:
        path = path.resolve()
        if path.is_file():
            dirs[path.parent] = None
            continue
        for found in sorted(path.rglob("test_*.py")) if path.is_dir() else ():
            below = found.parent.relative_to(path).parts
            walked = [path.joinpath(*below[: n + 1]) for n in range(len(below))]
            if not any(
                any(fnmatch(d.name, pat) for pat in skip) or (d / "pyvenv.cfg").exists()
                for d in walked
            ):
                dirs[found.parent] = None
    return list(dirs)
