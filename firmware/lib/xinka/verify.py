"""ECDSA P-256 signature verification (FIPS 186-5 §6.4.2, SEC 1 v2 §4.1.4), raw r || s.

For the ESP32 terminal's local check (docs/protocol.md "Check-in challenge"): R = u1*G + u2*Q
with u1 = e*s^-1, u2 = r*s^-1 mod n; valid when x(R) mod n = r. u1*G uses the fixed-base comb
table of p256 (31 doublings); u2*Q the width-5 wNAF of p256.mul_point; the two Jacobian results
are added with one mixed addition and one inversion. (Interleaving both in one Straus loop would
save nothing here: the comb already does only 31 doublings for u1*G.)

A public key is checked once, on the curve, when it is parsed (public_key()); verify() refuses
anything out of range and never raises on a bad signature: it returns False.
"""
from xinka import p256

_N = p256.N
_P = p256.P


def public_key(sec1):
    """(x, y) from an uncompressed SEC 1 point 04 || x || y. ValueError off the curve."""
    if len(sec1) != 65 or sec1[0] != 4:
        raise ValueError("not an uncompressed P-256 point")
    x = int.from_bytes(sec1[1:33], "big")
    y = int.from_bytes(sec1[33:], "big")
    if not p256.on_curve(x, y):
        raise ValueError("point not on P-256")
    return x, y


def point_xy(x32, y32):
    """(x, y) from two 32-byte coordinates (a COSE_Key's -2, -3). ValueError off the curve."""
    if len(x32) != 32 or len(y32) != 32:
        raise ValueError("coordinates must be 32 bytes")
    x = int.from_bytes(x32, "big")
    y = int.from_bytes(y32, "big")
    if not p256.on_curve(x, y):
        raise ValueError("point not on P-256")
    return x, y


def _mul_q(k, qx, qy):
    # k*Q in Jacobian coordinates (wNAF, p256's odd multiples); Z = 0 is infinity
    pre = p256._odd_multiples(qx, qy)
    n = p256._wnaf(k)
    X = Y = Z = 0
    for i in range(n - 1, -1, -1):
        if Z:
            X, Y, Z = p256._dbl(X, Y, Z)
        c = p256._naf_digit(i)
        if c:
            if c > 0:
                x2, y2 = pre[c >> 1]
            else:
                x2, y2 = pre[-c >> 1]
                y2 = _P - y2
            X, Y, Z = p256._madd(X, Y, Z, x2, y2)
    return X, Y, Z


def verify(pub, digest, sig):
    """True when sig (64 bytes r || s) is a signature of the 32-byte digest by pub = (x, y)."""
    if len(sig) != 64 or len(digest) != 32:
        return False
    r = int.from_bytes(sig[:32], "big")
    s = int.from_bytes(sig[32:], "big")
    if not (0 < r < _N and 0 < s < _N):
        return False
    w = p256.inv(s, _N)
    e = int.from_bytes(digest, "big") % _N
    u1 = e * w % _N
    u2 = r * w % _N
    X, Y, Z = _mul_q(u2, pub[0], pub[1])
    if u1:
        gx, gy = p256.mul_base(u1)               # comb table, affine
        if Z:
            X, Y, Z = p256._madd(X, Y, Z, gx, gy)
        else:
            X, Y, Z = gx, gy, 1
    if not Z:
        return False                             # R is the point at infinity
    # x(R) = X / Z^2; compare without a second inversion where possible: one inversion anyway
    zi = p256.inv(Z, _P)
    x = X * (zi * zi % _P) % _P
    return x % _N == r
