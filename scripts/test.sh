#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what is missing, checks style (ruff), then runs pytest.
# Extra arguments go to pytest (e.g. `scripts/test.sh -m "not slow"`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$ROOT"
# Style first: lint and formatting are part of the test command (config: ruff.toml).
ruff check .
ruff format --check .
exec python -m pytest "$@"
