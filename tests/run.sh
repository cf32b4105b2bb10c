#!/usr/bin/env bash
# hostkit's own tests by tier, with each tier's and each hosts scenario's wall time at the
# end:  bash tests/run.sh [TIER...] [-- PYTEST-ARGS...]   (no tier: every tier, as CI runs)
# Tiers: unit local ssh parity plugin wheel bench hosts (hosts-vm, hosts-containers).
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 -m tests.run "$@"
