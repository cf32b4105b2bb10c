#!/usr/bin/env bash
# hostkit's own tests, every tier. The hosts tier boots its VM and containers once
# per run and must stay in one process, so it runs after the parallel tiers.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p reports
python3 -m pytest tests -n 2 --ignore=tests/hosts -m "not wheel" --junitxml=reports/tests.xml "$@"
# The wheel as a user gets it: built, installed into a fresh venv, run from an empty directory.
python3 -m pytest tests --ignore=tests/hosts -m wheel --junitxml=reports/tests-wheel.xml "$@"
python3 -m pytest -p no:hostkit -c benchmarks/pytest.ini --rootdir benchmarks benchmarks/tests "$@"
python3 -m pytest tests/hosts --junitxml=reports/tests-hosts.xml "$@"
