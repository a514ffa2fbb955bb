#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, then runs pytest.
# Extra arguments go to pytest (e.g. `scripts/test.sh -m "not slow"`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
exec python -m pytest "$@"
