"""Where the wheel's packages come from (the rest, their data files included, is in
pyproject.toml).

The catalog stays at the repository's top (checks/, remediations/) and installs under
hostkit_catalog, so the wheel adds no generic top-level names; pyproject.toml's package
discovery cannot map directories like that.
"""

from setuptools import find_packages, setup

CATALOG = {
    "hostkit_catalog.checks": "checks",
    "hostkit_catalog.remediations": "remediations",
}
# Directories of data files only (no __init__.py): listed as packages, so setuptools
# installs them as package data and does not warn that it may stop doing so.
DATA = ["kit.reports.schema", "kit.reports.templates", "hostkit_catalog.checks.profiles"]

setup(
    packages=[*find_packages(include=["kit", "kit.*", "hostkit_catalog"]), *CATALOG, *DATA],
    package_dir=CATALOG,
)
