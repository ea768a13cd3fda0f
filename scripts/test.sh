#!/usr/bin/env bash
# The second README command: set up everything the test suite needs, then run all of it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# debian_install WHAT WARNING PACKAGE...: Debian's packages, as root or through sudo; on failure
# a warning naming what will be skipped or fail, and the suite goes on.
debian_install() {
    local what=$1 warning=$2
    shift 2
    echo "== installing $what (Debian package)"
    export DEBIAN_FRONTEND=noninteractive
    if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "$@" >/dev/null \
        || echo "warning: could not install $what; $warning" >&2
}
# The verifier's tests start their own throw-away PostgreSQL cluster (testkit/pg.py); they need
# Debian's server binaries.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    debian_install PostgreSQL "PostgreSQL tests will be skipped (or fail under CI=true)" postgresql
fi
# The operator guide's SQLite backup (docs/operator.md, run by tests/test_guides.py and
# tests/verifier/test_backup.py) uses Debian's sqlite3 shell.
if ! command -v sqlite3 >/dev/null 2>&1; then
    debian_install sqlite3 "the backup tests will fail" sqlite3
fi
# The operations tests (tests/ops) start their own Redis server for the shared rate limits.
if ! command -v redis-server >/dev/null 2>&1; then
    debian_install Redis "Redis tests will be skipped (or fail under CI=true)" redis-server
fi
# The proxy tests (tests/ops/test_nginx.py) run Debian's nginx with deploy/nginx/xinka-verifier.conf.
if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    debian_install nginx "nginx tests will be skipped (or fail under CI=true)" nginx
fi
# The browser tests (tests/web/test_browser.py) drive Debian's Chromium through Debian's
# chromedriver (Selenium; no browser download); a CJK font so screenshots show Chinese.
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    debian_install Chromium "browser tests will be skipped (or fail under CI=true)" \
        chromium chromium-driver fonts-wqy-microhei
fi
# The operator guide (tests/test_guides.py) makes agency keys with Debian's openssl.
if ! command -v openssl >/dev/null 2>&1; then
    debian_install openssl "the operator guide test will fail" openssl
fi
# Type checks (tests/test_types.py) use pyright from npm (Node from Debian when missing).
if ! command -v pyright >/dev/null 2>&1; then
    echo "== installing pyright (npm)"
    if ! command -v npm >/dev/null 2>&1; then
        debian_install Node "type checks will be skipped (or fail under CI=true)" nodejs npm
    fi
    npm install -g --silent pyright@1.1.414 >/dev/null \
        || echo "warning: could not install pyright; type checks will be skipped (or fail under CI=true)" >&2
fi
# The ESP32 port's own stubs (PyPI, MicroPython 1.29) for pyright over firmware/: the badge is
# checked against the ESP32-C3 port, the terminal against the ESP32-S3
# (pyrightconfig.esp32c3.json, pyrightconfig.esp32s3.json).
for chip in c3 s3; do
    if [ ! -f ".venv/mpy-stubs/esp32$chip/machine.pyi" ]; then
        echo "== installing the MicroPython ESP32-${chip^^} stubs"
        .venv/bin/python -m pip install --quiet --no-user --upgrade --target ".venv/mpy-stubs/esp32$chip" \
            "micropython-esp32-esp32-generic-$chip-stubs==1.29.0.post1" "micropython-stdlib-stubs==1.29.0.post2"
    fi
done
echo "== running the test suite"
# Two worker processes (pytest-xdist), each taking whole test files (module fixtures such as
# the built wheel or a served demo are made once); ports: tests/conftest.py.
exec .venv/bin/python -m pytest -q -p no:cacheprovider --durations=25 -n 2 --dist loadfile "$@"
