"""Generate firmware/lib/xinka/p256_comb.py: the fixed-base comb table for P-256 (FIPS 186-5 curve).

For a comb of width w and d = ceil(256 / w) columns, entry i (1 <= i < 2**w) is

    T[i] = sum over set bits j of i of 2**(j*d) * G

stored affine as x || y, 32 bytes each, big-endian; entry i starts at byte 64 * (i - 1). Plain
integer arithmetic, no dependencies, so the output is reproducible byte for byte:

    python tools/gen_p256_comb.py [--width 8] [--out firmware/lib/xinka/p256_comb.py] [--check]
"""
import argparse
import hashlib
import pathlib

P = 0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff
N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
A = P - 3
B = 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b
GX = 0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296
GY = 0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5

OUT = pathlib.Path(__file__).resolve().parents[1] / "firmware" / "lib" / "xinka" / "p256_comb.py"


def add(p1, p2):
    """Affine addition; None is the point at infinity."""
    if p1 is None:
        return p2
    if p2 is None:
        return p1
    (x1, y1), (x2, y2) = p1, p2
    if x1 == x2:
        if (y1 + y2) % P == 0:
            return None
        lam = (3 * x1 * x1 + A) * pow(2 * y1, -1, P) % P
    else:
        lam = (y2 - y1) * pow(x2 - x1, -1, P) % P
    x3 = (lam * lam - x1 - x2) % P
    return x3, (lam * (x1 - x3) - y1) % P


def mul(k, pt):
    """Double-and-add k * pt."""
    acc = None
    while k:
        if k & 1:
            acc = add(acc, pt)
        pt = add(pt, pt)
        k >>= 1
    return acc


def table(w):
    """The 2**w - 1 comb points as one bytes object."""
    d = -(-256 // w)
    base = [mul(1 << (j * d), (GX, GY)) for j in range(w)]
    pts = [None]
    for i in range(1, 1 << w):
        low = i & -i
        pts.append(add(pts[i ^ low], base[low.bit_length() - 1]))
    out = bytearray()
    for x, y in pts[1:]:
        assert (y * y - x * x * x - A * x - B) % P == 0
        out += x.to_bytes(32, "big") + y.to_bytes(32, "big")
    return bytes(out)


def render(w):
    """Source text of the generated module."""
    d = -(-256 // w)
    blob = table(w)
    lines = [
        '"""P-256 fixed-base comb table, width %d, %d columns (generated; do not edit).' % (w, d),
        "",
        "Made by tools/gen_p256_comb.py. Entry i (1..%d) = sum over set bits j of i of"
        % ((1 << w) - 1),
        "2**(j*%d) * G, affine x || y big-endian at byte 64 * (i - 1). sha256: %s"
        % (d, hashlib.sha256(blob).hexdigest()[:16]),
        '"""',
        "from xinka.compat import const",
        "",
        "W = const(%d)" % w,
        "D = const(%d)" % d,
        "TABLE = (",
    ]
    for o in range(0, len(blob), 64):  # one entry, x || y, per line
        lines.append('    b"%s"' % "".join("\\x%02x" % c for c in blob[o:o + 64]))
    lines.append(")")
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--out", type=pathlib.Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="fail if --out differs from the output")
    args = ap.parse_args(argv)
    text = render(args.width)
    if args.check:
        if args.out.read_text() != text:
            raise SystemExit("%s is stale: run tools/gen_p256_comb.py" % args.out)
        return 0
    args.out.write_text(text)
    print("wrote %s (%d entries)" % (args.out, (1 << args.width) - 1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
