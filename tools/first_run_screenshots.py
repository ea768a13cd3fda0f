"""Screenshots of the first run's employer pages (green and red) in headless Chromium, with a
phone viewport: docs/screenshots/first-run-green.png and first-run-red.png.

    .venv/bin/python tools/first_run_screenshots.py [--out docs/screenshots]

Runs the README's first command (demo/) with a small fleet in a temporary folder,
serving in the background, opens the green and the red employer URL it printed, then stops it
with Ctrl-C (SIGINT). Needs Debian's chromium and chromedriver (scripts/test.sh installs them).
"""
import argparse
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hardware.sim.ports import free_port  # noqa: E402


def _ignore_sigint():
    # started as a shell without job control starts `cmd &` (SIGINT ignored), whoever runs
    # the tests: Ctrl-C (stop()) must stop the demo all the same
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class ServingDemo:
    """`python -m demo` serving in the background; .urls once it printed them."""

    def __init__(self, state_dir, badges=4, port=None, timeout=240):
        self.dir = pathlib.Path(state_dir)
        self.port = port or free_port()
        self.urls_file = self.dir / "urls.json"
        self.out = self.dir / "demo.out"
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.out, "wb") as f:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "demo", "--badges", str(badges), "--port",
                 str(self.port), "--dir", str(self.dir / "state"), "--urls-json",
                 str(self.urls_file)], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                env=dict(os.environ, PYTHONUNBUFFERED="1"), preexec_fn=_ignore_sigint)
        end = time.monotonic() + timeout
        while "Ctrl-C" not in self.output():
            if self.proc.poll() is not None or time.monotonic() > end:
                self.stop()
                raise RuntimeError("the demo did not reach serving:\n" + self.output())
            time.sleep(0.5)
        self.urls = json.loads(self.urls_file.read_text())

    def output(self):
        return self.out.read_text(encoding="utf-8", errors="replace")

    def stop(self):
        """Ctrl-C; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def capture(urls, out_dir):
    """Screenshots of urls["green_spare"] and urls["red"]; {colour: (path, data-colour)}."""
    from testkit.browser import full_screenshot, start_chromium, stop_chromium
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    drv = start_chromium()
    shots = {}
    try:
        for name, key in (("green", "green_spare"), ("red", "red")):
            drv.get(urls[key])
            seen = drv.find_element("id", "verdict").get_attribute("data-colour")
            path = full_screenshot(drv, out_dir / f"first-run-{name}.png")
            shots[name] = (path, seen)
    finally:
        stop_chromium(drv)
    return shots


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="xinka-first-run-") as tmp:
        demo = ServingDemo(tmp)
        try:
            shots = capture(demo.urls, args.out)
        finally:
            demo.stop()
    for name, (path, seen) in shots.items():
        print(f"{name}: {path} (page verdict {seen})")
    return 0 if all(n == seen for n, (_, seen) in shots.items()) else 1


if __name__ == "__main__":
    sys.exit(main())
