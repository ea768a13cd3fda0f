"""Each device's firmware: every module's .mpy size and the heap after importing it.

    .venv/bin/python bench/bench_firmware_size.py [--markdown]

The build (host/build.py) lays out each device's /lib from its manifest; one MicroPython process
per device, with that device's heap (badge 128 KiB, terminal 256 KiB) and nothing but its /lib
on the path, imports the modules in manifest order and reports gc.mem_alloc() after each
(collected, cumulative: what the device holds once it has loaded everything up to that
module). The board modules import `machine` and run only on the chip: their size is listed,
their heap is not. The badge's total must stay within its budget (tests hold it there:
tests/firmware/test_build.py, the simulated badge's ballast).

Last line, machine-readable: RESULT badge_flash=... badge_heap=... badge_share=... terminal_...
"""
import argparse
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hardware.sim import runner  # noqa: E402
from hardware.sim.terminal import TERMINAL_HEAP  # noqa: E402
from host import build  # noqa: E402

HEAPS = {"badge": runner.HEAP_BYTES, "terminal": TERMINAL_HEAP}

SCRIPT = """
import gc, sys
gc.collect()
base = gc.mem_alloc()
print("BASE", base, gc.mem_free())
for name in sys.argv[1:]:
    try:
        __import__(name)
    except ImportError as err:
        print("CHIP", name, err)
        continue
    gc.collect()
    print("HEAP", name, gc.mem_alloc() - base)
"""


def measure(device, out):
    """[(module, .mpy bytes, cumulative heap or None)], heap budget, free at start."""
    root = build.install(device, out, pathlib.Path(out) / "flash" / device)
    names, sizes = [], {}
    for f in build.manifest(device).files:
        name = f.target[:-3].replace("/", ".").removesuffix(".__init__")
        names.append(name)
        sizes[name] = (root / "lib" / (f.target[:-3] + ".mpy")).stat().st_size
    proc = runner.run(SCRIPT, root, path=("lib",), heap=HEAPS[device], args=names)
    heap, free0 = {}, 0
    for line in proc.stdout.splitlines():
        w = line.split()
        if w[0] == "BASE":
            free0 = int(w[2])
        elif w[0] == "HEAP":
            heap[w[1]] = int(w[2])
    return [(n, sizes[n], heap.get(n)) for n in names], HEAPS[device], free0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--markdown", action="store_true", help="the table for docs/performance.md")
    a = ap.parse_args(argv)
    result = []
    with tempfile.TemporaryDirectory() as tmp:
        out = build.compile_all(pathlib.Path(tmp) / "mpy")
        for device in ("badge", "terminal"):
            rows, budget, free0 = measure(device, out)
            flash = sum(s for _, s, _ in rows)
            held = max(h for _, _, h in rows if h is not None)
            print("\n%s: %d modules, %d bytes of .mpy; heap %d KiB, %d bytes free at start"
                  % (device, len(rows), flash, budget // 1024, free0))
            if a.markdown:
                print("\n| module | .mpy bytes | heap after import (cumulative) |")
                print("|---|---:|---:|")
            prev = 0
            for name, size, h in rows:
                if h is None:
                    cell = "chip only (imports machine)"
                else:
                    cell = "%d (+%d)" % (h, h - prev)
                    prev = h
                row = "| %s | %d | %s |" if a.markdown else "  %-22s %7d  %s"
                print(row % (name, size, cell))
            share = held / free0
            print("%s total: %d bytes of flash, %d bytes of heap held after every import = %.2f of "
                  "the %d bytes free" % (device, flash, held, share, free0))
            result.append("%s_flash=%d %s_heap=%d %s_share=%.3f"
                          % (device, flash, device, held, device, share))
    print("RESULT " + " ".join(result))


if __name__ == "__main__":
    main()
