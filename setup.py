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

setup(
    packages=[*find_packages(include=["kit", "kit.*", "hostkit_catalog"]), *CATALOG],
    package_dir=CATALOG,
)
