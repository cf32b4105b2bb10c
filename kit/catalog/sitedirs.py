"""The directories of checks a run would load from the paths it is given, as pytest walks
them: a file's own directory, and every directory below a given one that holds a test
module, except those pytest would not enter (`norecursedirs`, a virtualenv)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from fnmatch import fnmatch
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kit.catalog.profile import Profile

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


def catalog_dirs(prof: Profile, profiles_dir: Path) -> list[Path]:
    """The checks a profile may name: the test modules next to the run's profiles directory
    (`checks/` for `checks/profiles`), and next to the `profiles/` directory of the profile
    and of each profile it extends (the shipped catalog's, for a user's profile extending a
    shipped one)."""
    found = [profiles_dir.parent]
    for source in (prof.source, *prof.parents):
        if source is not None and source.parent.name == "profiles":
            found.append(source.parent.parent)
    return list({d.resolve(): d for d in found}.values())
