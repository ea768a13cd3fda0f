"""Refresh the screenshots in docs/screenshots/ from the browser tests.

    .venv/bin/python tools/screenshots.py [--keep DIR]

Runs tests/web/test_browser.py and tests/web/test_worker_browser.py (headless Chromium, a
phone viewport, a real verifier on 127.0.0.1) with XINKA_ARTIFACTS pointing at a scratch
folder, then copies the green, yellow and red employer pages, the console pages
docs/employer.md shows and the worker's page (docs/worker.md) into docs/screenshots/.
"""
import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "screenshots"
# artifact name -> name in docs/screenshots
COPY = {
    "employer-green": "employer-green",
    "employer-consent-zh": "employer-consent",
    "employer-yellow": "employer-yellow",
    "employer-red-revoked": "employer-red-revoked",
    "employer-red-reused": "employer-red-reused",
    "employer-red-cut": "employer-red-malformed",
    "console-worker": "console-worker",
    "console-report": "console-report",
    "worker-page-zh": "worker-page-zh",
    "worker-page-en": "worker-page-en",
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", help="keep every artifact in this folder")
    args = ap.parse_args(argv)
    work = pathlib.Path(args.keep or tempfile.mkdtemp(prefix="xinka-shots-"))
    env = dict(os.environ, XINKA_ARTIFACTS=str(work))
    rc = subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(ROOT / "tests" / "web" / "test_browser.py"),
                          str(ROOT / "tests" / "web" / "test_worker_browser.py")], cwd=ROOT,
                         env=env)
    if rc != 0:
        print("browser tests failed; docs/screenshots/ left as it was", file=sys.stderr)
        return rc
    DOCS.mkdir(parents=True, exist_ok=True)
    for src, dst in COPY.items():
        shutil.copyfile(work / f"{src}.png", DOCS / f"{dst}.png")
        print(f"docs/screenshots/{dst}.png")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
