#!/usr/bin/env bash
# The main job, from a fresh machine: installs what is missing, then runs `k2 demo`
# (local stack up, replay feed, ingestion, Dagster UI with assets materializing). Ctrl-C stops it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
exec k2 demo "$@"
