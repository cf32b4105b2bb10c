"""hostkit's shipped catalog: the checks (`hostkit_catalog.checks`, with their profiles in
`checks/profiles`) and the remediations they pair with (`hostkit_catalog.remediations`).

The wheel installs both here. In a checkout they stay at the repository's top (`checks/`,
`remediations/`), and this package reaches them from there, so the catalog imports itself
by one name wherever it runs.
"""

from pathlib import Path

_HERE = Path(__file__).resolve().parent

if not (_HERE / "checks").is_dir():
    __path__.append(str(_HERE.parent))
