#!/usr/bin/env bash
# hostkit's own tests, every tier. The hosts tier boots its VM and containers once
# per run and must stay in one process, so it runs after the parallel tiers.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p reports
python3 -m pytest tests -n 2 --ignore=tests/hosts --junitxml=reports/tests.xml "$@"
python3 -m pytest -p no:hostkit -c benchmarks/pytest.ini --rootdir benchmarks benchmarks/tests "$@"
python3 -m pytest tests/hosts --junitxml=reports/tests-hosts.xml "$@"
