#!/bin/sh
# Build the wheel from a source tree and install it with its dependencies into a new
# virtualenv: the one install recipe, run by the container file (deploy/container/Containerfile)
# and by the wheel test (tests/test_packaging.py), so what the test proves is what ships.
#
#   sh deploy/install-wheel.sh SOURCE_TREE VENV [DIST_DIR]
#
# PYTHON (default python3) is the interpreter of the virtualenv.
set -eu
src=$1
venv=$2
dist=${3:-"$venv.dist"}
py=${PYTHON:-python3}
"$py" -m pip wheel --no-deps --quiet -w "$dist" "$src"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet "$dist"/xinka-*.whl
