"""Badge state on littlefs under MicroPython: time and flash wear per tap, refill and boot.

    .venv/bin/python bench/bench_state.py [--taps 960] [--pool 32]

One MicroPython process with the badge heap (128 KiB) runs the compiled firmware against
VfsLfs2 on hardware/sim/flash.py (file-backed, 64 sectors of 4 KiB). A tap is next_counter() +
sign() as the badge loop does it; the pool is refilled `--pool` entries at a time when it runs
dry. Times are on the unix port (the flash model's file I/O included, so they bound the state
code from above); wear is what littlefs programmed and erased, counted by the flash model.

Last line, machine-readable: RESULT tap_us=... tap_bytes=... taps_per_erase=... ...
"""
import argparse
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hardware.sim import runner as mpy  # noqa: E402

SCRIPT = """
import sys, vfs, hashlib, struct, time, gc
from flash import FlashDevice
import state
from xinka import ecdsa, drbg

img, taps, fill = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
dev = FlashDevice(img, 4096, 64)
vfs.VfsLfs2.mkfs(dev)
vfs.mount(vfs.VfsLfs2(dev), "/flash")
key = ecdsa.Key(0xBE7C4)
rng = drbg.HmacDrbg(hashlib.sha256(b"bench state").digest())
st = state.BadgeState("/flash/badge", capacity=fill).load()
st.put("key", bytes(32))
st.put("cred", bytes(300))
t_tap = t_ref = 0
b_tap = e_tap = b_ref = e_ref = refills = 0
for i in range(taps):
    if st.pool_available() == 0:
        b, e, t0 = dev.prog_bytes, sum(dev.erases), time.ticks_us()
        st.refill(key, rng.generate, fill)
        t_ref += time.ticks_diff(time.ticks_us(), t0)
        b_ref += dev.prog_bytes - b
        e_ref += sum(dev.erases) - e
        refills += 1
    dg = hashlib.sha256(struct.pack(">Q", i)).digest()
    b, e, t0 = dev.prog_bytes, sum(dev.erases), time.ticks_us()
    st.next_counter()
    st.sign(key, dg)
    t_tap += time.ticks_diff(time.ticks_us(), t0)
    b_tap += dev.prog_bytes - b
    e_tap += sum(dev.erases) - e
vfs.umount("/flash")
t0 = time.ticks_us()
for _ in range(20):
    d = FlashDevice(img)
    vfs.mount(vfs.VfsLfs2(d), "/flash")
    state.BadgeState("/flash/badge", capacity=fill).load()
    vfs.umount("/flash")
    d.close()
t_boot = time.ticks_diff(time.ticks_us(), t0) // 20
gc.collect()
print("R", taps, t_tap, b_tap, e_tap, refills, t_ref, b_ref, e_ref, t_boot,
      max(dev.erases), sum(1 for x in dev.erases if x), gc.mem_free())
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--taps", type=int, default=960)
    ap.add_argument("--pool", type=int, default=32)
    a = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        build = mpy.compile_firmware(pathlib.Path(tmp) / "mpy")
        out = mpy.run(SCRIPT, build, path=("lib", "badge", str(ROOT / "hardware" / "sim")),
                      args=[str(pathlib.Path(tmp) / "bench.img"), str(a.taps), str(a.pool)])
    f = [int(x) for x in out.stdout.split()[1:]]
    taps, t_tap, b_tap, e_tap, refills, t_ref, b_ref, e_ref, t_boot, worst, used, free = f
    per_entry = t_ref / max(1, refills * a.pool)
    print("taps %d, refills %d of %d entries" % (taps, refills, a.pool))
    print("tap (next_counter + sign): %.0f us, %.1f bytes programmed, 1 erase per %.0f taps"
          % (t_tap / taps, b_tap / taps, taps / max(1, e_tap)))
    print("refill: %.0f us per entry, %.0f bytes and %.1f erases per refill"
          % (per_entry, b_ref / max(1, refills), e_ref / max(1, refills)))
    print("all in: %.0f bytes and 1 erase per %.1f taps; sectors erased %d of 64, worst %d times"
          % ((b_tap + b_ref) / taps, taps / max(1, e_tap + e_ref), used, worst))
    print("boot (mount + load): %d us; heap free after: %d bytes" % (t_boot, free))
    print("RESULT tap_us=%.0f tap_bytes=%.1f taps_per_erase=%.0f refill_entry_us=%.0f "
          "boot_us=%d" % (t_tap / taps, b_tap / taps, taps / max(1, e_tap), per_entry, t_boot))


if __name__ == "__main__":
    main()
