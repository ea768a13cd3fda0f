#!/usr/bin/env bash
# The second README command: set up everything the test suite needs, then run all of it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== running the test suite"
exec .venv/bin/python -m pytest -q -p no:cacheprovider "$@"
