"""The house rules that a tool checks: ruff over the whole tree (ruff.toml: one configuration for
CPython and MicroPython code) and mpy-cross over every firmware file (tests/firmware/test_build)."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
RUFF = pathlib.Path(sys.executable).parent / "ruff"


def test_ruff_finds_nothing():
    r = subprocess.run([str(RUFF), "check", "--no-cache", "--output-format", "concise", "."],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_checks_the_firmware_too():
    # the configuration must not exclude the device code: a deliberate problem is found there
    r = subprocess.run([str(RUFF), "check", "--no-cache", "--stdin-filename",
                        "firmware/badge/example.py", "-"], input="import os\n", cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "F401" in r.stdout, r.stdout + r.stderr
