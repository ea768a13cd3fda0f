"""Compact status list: size for 16.7 M badges against the entropy bound and a zlib'd 2-bit
bitmap, encode time on the host, lookup cost under MicroPython.

    .venv/bin/python bench/bench_compact.py [--n 16777216] [--lookups 300]

For each revocation rate (1, 2, 5 %; plus 2 % revoked with 0.5 % suspended) a random set of
revoked indices is drawn, the 2-bit status list built, and then:

  bound    log2 C(n, k) bits for the revoked set (with suspensions: log2 of the multinomial
           n! / (k_r! k_s! (n - k_r - k_s)!)), in bytes
  compact  manifest (signed, with every chunk's SHA-256) + all chunks, as a terminal stores it
  zlib     the 2-bit array compressed with zlib level 9 (what /sl/<agency> carries in `lst`)
  lookup   one lookup under MicroPython (unix port, 64 KiB heap): open the chunk file, read
           one chunk, SHA-256 it, decode to the index; mean over random indices.
"""
import argparse
import hashlib
import math
import pathlib
import random
import sys
import tempfile
import time
import zlib

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from hardware.sim import runner  # noqa: E402
from host.wire import StatusList, compact, sample  # noqa: E402
from host.wire.cose import parse_sign1  # noqa: E402

MPY = r"""
import sys, time
from xinka import revocation as r
d = sys.argv[1]
digest = bytes.fromhex(sys.argv[2])
m = r.Manifest(open(d + "/manifest.cose", "rb").read(), lambda k, dg, s: dg == digest)
cl = r.CompactList(m, r.FileChunks(d + "/chunks.bin"))
idx = [int(x) for x in open(d + "/probe.txt").read().split()]
t0 = time.ticks_us()
for i in idx:
    cl.lookup(i)
print("US", time.ticks_diff(time.ticks_us(), t0) // len(idx), m.max_chunk, len(m))
"""


def log2_multinomial(n, *ks):
    rest = n - sum(ks)
    v = math.lgamma(n + 1) - math.lgamma(rest + 1) - sum(math.lgamma(k + 1) for k in ks)
    return v / math.log(2)


def one(n, p_rev, p_sus, key, build_dir, lookups, seed=1):
    rnd = random.Random(seed)
    k_r, k_s = int(n * p_rev), int(n * p_sus)
    picked = rnd.sample(range(n), k_r + k_s)
    lst = StatusList(n)
    for i in picked[:k_r]:
        lst.set(i, 1)
    for i in picked[k_r:]:
        lst.set(i, 2)
    raw = lst.to_bytes()
    t0 = time.perf_counter()
    manifest, chunks = compact.build(key, "https://v.example.cn/sl/A330100", 1, sample.NOW,
                                     sample.NOW + 86400, 3600, raw)
    enc_s = time.perf_counter() - t0
    total = len(manifest) + sum(map(len, chunks))
    bound = log2_multinomial(n, k_r, k_s) / 8 if k_s else log2_multinomial(n, k_r) / 8
    z = len(zlib.compress(raw, 9))
    us = max_chunk = nchunks = None
    if build_dir is not None:
        with tempfile.TemporaryDirectory() as d:
            d = pathlib.Path(d)
            (d / "manifest.cose").write_bytes(manifest)
            (d / "chunks.bin").write_bytes(b"".join(chunks))
            (d / "probe.txt").write_text(" ".join(str(rnd.randrange(n))
                                                  for _ in range(lookups)))
            msg = parse_sign1(manifest, 1 << 24)
            dg = hashlib.sha256(msg.sig_structure()).hexdigest()
            out = runner.run(MPY, build_dir, heap=512 * 1024, args=[str(d), dg]).stdout
            us, max_chunk, nchunks = map(int, out.split()[1:4])
    return dict(p_rev=p_rev, p_sus=p_sus, k=k_r + k_s, bound=bound, total=total,
                ratio=total / bound, manifest=len(manifest), chunks=len(chunks), zlib=z,
                enc_s=enc_s, us=us, max_chunk=max(map(len, chunks)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1 << 24)
    ap.add_argument("--lookups", type=int, default=300)
    ap.add_argument("--no-micropython", action="store_true")
    a = ap.parse_args(argv)
    key = sample.World(n_agencies=1, n_badges=1).agency_keys["A330100"]
    build_dir = None
    if not a.no_micropython:
        build_dir = pathlib.Path(tempfile.mkdtemp(prefix="bench-compact-"))
        runner.compile_firmware(build_dir)
    print(f"n = {a.n:,} status indices; chunk target {compact.codec.TARGET} bytes")
    print("| revoked | suspended | bound (KB) | compact (KB) | x bound | chunks | manifest (KB) "
          "| max chunk | zlib 2-bit (KB) | encode (s) | lookup, MicroPython unix (ms) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for p_rev, p_sus in ((0.01, 0), (0.02, 0), (0.05, 0), (0.02, 0.005)):
        r = one(a.n, p_rev, p_sus, key, build_dir, a.lookups)
        us = f"{r['us'] / 1000:.2f}" if r["us"] is not None else "-"
        print(f"| {p_rev:.0%} | {p_sus:.1%} | {r['bound'] / 1000:.1f} | {r['total'] / 1000:.1f} "
              f"| {r['ratio']:.3f} | {r['chunks']} | {r['manifest'] / 1000:.1f} | "
              f"{r['max_chunk']} | {r['zlib'] / 1000:.1f} | {r['enc_s']:.1f} | {us} |",
              flush=True)


if __name__ == "__main__":
    main()
