"""NIST P-256 point arithmetic (FIPS 186-5 / SP 800-186 §3.2.1.3, SEC 1 v2 §2.2).

Jacobian coordinates with a = -3: doubling dbl-2001-b (3M+5S), mixed Jacobian-affine addition
madd-2004-hmv (8M+3S), both from the Explicit-Formulas Database. k*G uses the fixed-base comb of
p256_comb (d-1 doublings, at most d mixed additions, one inversion); k*Q for any other point
uses width-5 wNAF with no table. Every field product is reduced at once with `% P`: under
MicroPython the reduction, not the product, is the costly big-integer operation, so the hot
paths count reductions.

Not constant-time (nothing in MicroPython big integers is); see ecdsa.NoncePool for how the
badge keeps nonce arithmetic off the tap path.
"""
from xinka.compat import const

from xinka import p256_comb

P = const(0xffffffff00000001000000000000000000000000ffffffffffffffffffffffff)
N = const(0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551)
A = const(0xffffffff00000001000000000000000000000000fffffffffffffffffffffffc)
B = const(0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604b)
GX = const(0x6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296)
GY = const(0x4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5)


def inv(a, m):
    """a**-1 mod m for prime m (extended Euclid). ValueError when a = 0 mod m.

    Same result as pow(a, m - 2, m), about four times faster under MicroPython.
    """
    a %= m
    if not a:
        raise ValueError("no inverse of 0")
    r0 = m
    t0 = 0
    t1 = 1
    while a:
        q, r = divmod(r0, a)
        r0 = a
        a = r
        t0, t1 = t1, t0 - q * t1
    if r0 != 1:
        raise ValueError("not invertible")
    return t0 % m


def random_scalar(rng):
    """A scalar uniform in [1, N-1] from rng(32), rejection sampling (FIPS 186-5 A.2.2, A.3.2)."""
    while True:
        k = int.from_bytes(rng(32), "big")
        if 0 < k < N:
            return k


def on_curve(x, y):
    """True when (x, y) is an affine point of P-256 (SEC 1 §3.2.2.1 steps 1-2)."""
    if not (0 <= x < P and 0 <= y < P):
        return False
    return (y * y - (x * x - 3) * x - B) % P == 0


def _dbl(X, Y, Z):
    """2*(X, Y, Z), dbl-2001-b: 7 reductions. Z = 0 (infinity) stays 0."""
    p = P
    d = Z * Z % p
    g = Y * Y % p
    b = X * g % p
    a = 3 * (X - d) * (X + d) % p
    X3 = (a * a - (b << 3)) % p
    return X3, (a * ((b << 2) - X3) - (g * g << 3)) % p, (Y * Z << 1) % p


def _madd(X1, Y1, Z1, x2, y2):
    """(X1, Y1, Z1) + (x2, y2, 1), madd-2004-hmv: 10 reductions; infinity and P + P handled."""
    if not Z1:
        return x2, y2, 1
    p = P
    zz = Z1 * Z1 % p
    h = x2 * zz % p - X1
    r = y2 * (zz * Z1 % p) % p - Y1
    if not h:
        if r:
            return 1, 1, 0
        return _dbl(x2, y2, 1)
    hh = h * h % p
    hhh = h * hh % p
    v = X1 * hh % p
    X3 = (r * r - hhh - (v << 1)) % p
    return X3, (r * (v - X3) - Y1 * hhh) % p, Z1 * h % p


def _affine(X, Y, Z):
    """Jacobian to affine: one inversion."""
    if not Z:
        raise ValueError("point at infinity")
    zi = inv(Z, P)
    z2 = zi * zi % P
    return X * z2 % P, Y * z2 % P * zi % P


def _comb(k):
    """k*G in Jacobian coordinates for 0 < k < N, from the comb table."""
    w = p256_comb.W
    d = p256_comb.D
    kb = k.to_bytes(32, "big")
    # column i's table index takes bit j from bit j*d + i of k
    cols = bytearray(d)
    for j in range(w):
        bit = 1 << j
        q = j * d
        for i in range(d if q + d <= 256 else 256 - q):
            if kb[31 - (q >> 3)] >> (q & 7) & 1:
                cols[i] |= bit
            q += 1
    t = memoryview(p256_comb.TABLE)
    p = P
    X = Y = Z = 0
    for i in range(d - 1, -1, -1):
        if Z:
            # dbl-2001-b, inline
            dd = Z * Z % p
            g = Y * Y % p
            b = X * g % p
            a = 3 * (X - dd) * (X + dd) % p
            X = (a * a - (b << 3)) % p
            Z = (Y * Z << 1) % p
            Y = (a * ((b << 2) - X) - (g * g << 3)) % p
        c = cols[i]
        if c:
            o = (c - 1) << 6
            x2 = int.from_bytes(t[o:o + 32], "big")
            y2 = int.from_bytes(t[o + 32:o + 64], "big")
            if Z:
                X, Y, Z = _madd(X, Y, Z, x2, y2)
            else:
                X = x2
                Y = y2
                Z = 1
    return X, Y, Z


def mul_base(k):
    """k*G as affine (x, y), using the comb table. ValueError when k = 0 mod N."""
    k %= N
    if not k:
        raise ValueError("point at infinity")
    X, Y, Z = _comb(k)
    return _affine(X, Y, Z)


def base_x(k):
    """x of k*G, 0 < k < N (what ECDSA needs): saves the y conversion."""
    X, _, Z = _comb(k)
    zi = inv(Z, P)
    return X * (zi * zi % P) % P


# wNAF digits of a scalar below 2**256: at most 257 positions and the 4 zeros after the top
# digit. One buffer for the module, allocated at import: a list grown digit by digit needs a
# 4 KB block at the end (8-byte slots on a 64-bit port), which a fragmented heap may not have.
_NAF = bytearray(262)


def _wnaf(k):
    """Width-5 NAF digits of 0 < k < 2**256 into the module's buffer, least significant first,
    each as a signed byte (digit & 0xFF); returns their count. The buffer is overwritten by the
    next call: read it before."""
    out = _NAF
    n = 0
    while k:
        if k & 1:
            c = k & 31
            if c > 16:
                c -= 32
            k -= c
            out[n] = c & 0xFF
            out[n + 1] = 0
            out[n + 2] = 0
            out[n + 3] = 0
            out[n + 4] = 0
            n += 5
            k >>= 5
        else:
            out[n] = 0
            n += 1
            k >>= 1
    return n


def _naf_digit(i):
    c = _NAF[i]
    return c - 256 if c > 127 else c


def _odd_multiples(x, y):
    """[(x, y) * (2i + 1) for i in 0..7] affine, with one batched inversion."""
    p = P
    tx, ty = _affine(*_dbl(x, y, 1))
    jac = [(x, y, 1)]
    for _ in range(7):
        X, Y, Z = jac[-1]
        jac.append(_madd(X, Y, Z, tx, ty))
    # Montgomery's trick: one inversion for all eight Z
    acc = [1]
    for _X, _Y, Z in jac:
        if not Z:
            raise ValueError("point of small order")
        acc.append(acc[-1] * Z % p)
    zi = inv(acc[-1], p)
    out = [None] * 8  # type: list
    for i in range(7, -1, -1):
        X, Y, Z = jac[i]
        z1 = zi * acc[i] % p
        zi = zi * Z % p
        z2 = z1 * z1 % p
        out[i] = (X * z2 % p, Y * z2 % p * z1 % p)
    return out


def mul_point(k, x, y):
    """k*(x, y) as affine (x, y) with no table (wNAF). ValueError off the curve or at infinity."""
    if not on_curve(x, y):
        raise ValueError("point not on P-256")
    k %= N
    if not k:
        raise ValueError("point at infinity")
    pre = _odd_multiples(x, y)
    n = _wnaf(k)
    p = P
    X = Y = Z = 0
    for i in range(n - 1, -1, -1):
        if Z:
            X, Y, Z = _dbl(X, Y, Z)
        c = _naf_digit(i)
        if c:
            if c > 0:
                x2, y2 = pre[c >> 1]
            else:
                x2, y2 = pre[-c >> 1]
                y2 = p - y2
            X, Y, Z = _madd(X, Y, Z, x2, y2)
    return _affine(X, Y, Z)
