"""P-256 keys: kids, COSE_Key maps, and a cache of public-key objects.

- kid = first 8 bytes of SHA-256 over the uncompressed SEC1 point `04 || x || y`
  (SEC 1 v2 §2.3.3), for badge, agency and authority keys alike (`docs/protocol.md`).
- COSE_Key (RFC 9052 §7, RFC 9053 §7.1.1 EC2): `{1: 2, 2: kid, -1: 1, -2: x, -3: y}`, kty EC2,
  crv P-256, 32-byte coordinates; decoding checks every type and length, that the point is on
  the curve, and that the kid is the one this key has.

Building a key object from coordinates costs several microseconds (the on-curve check), so
`public_key_from_point` keeps a bounded cache keyed by the point: a verifier sees the same
badges, agencies and authority again and again.
"""
from __future__ import annotations

import hashlib
import logging

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from .errors import Malformed

__all__ = ["kid", "point", "public_key_from_point", "cose_key", "decode_cose_key", "generate",
           "from_secret", "public_key_of", "PrivateKey", "PublicKey", "AnyKey"]

log = logging.getLogger(__name__)

PrivateKey = ec.EllipticCurvePrivateKey
PublicKey = ec.EllipticCurvePublicKey
AnyKey = ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey

KTY, KID, CRV, X, Y = 1, 2, -1, -2, -3
KTY_EC2, CRV_P256 = 2, 1
_CURVE = ec.SECP256R1()
_CACHE_MAX = 65536
_cache: dict[bytes, PublicKey] = {}     # uncompressed point -> public key


def generate() -> PrivateKey:
    """A new P-256 private key."""
    return ec.generate_private_key(_CURVE)


def from_secret(d: int | bytes | bytearray) -> PrivateKey:
    """The P-256 private key with scalar `d` (an int, or 32 big-endian bytes): for test vectors."""
    if isinstance(d, (bytes, bytearray)):
        d = int.from_bytes(d, "big")
    return ec.derive_private_key(d, _CURVE)


def public_key_of(key: AnyKey) -> PublicKey:
    """The public key of a private key; a public key unchanged."""
    return key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key


def point(public_key: AnyKey) -> bytes:
    """The 65-byte uncompressed SEC1 point of a P-256 public (or private) key."""
    return public_key_of(public_key).public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def kid(public_key: AnyKey) -> bytes:
    """The 8-byte kid of a P-256 key: SHA-256 of the uncompressed point, truncated."""
    return hashlib.sha256(point(public_key)).digest()[:8]


def public_key_from_point(pt: bytes) -> PublicKey:
    """The public key for a 65-byte uncompressed point; Malformed if not on P-256."""
    key = _cache.get(pt)
    if key is not None:
        return key
    if type(pt) is not bytes or len(pt) != 65 or pt[0] != 4:
        raise Malformed("not an uncompressed P-256 point")
    try:
        key = ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, pt)
    except ValueError as err:
        raise Malformed("point is not on P-256") from err
    if len(_cache) >= _CACHE_MAX:
        log.debug("public key cache full (%d points): cleared", len(_cache))
        _cache.clear()
    _cache[pt] = key
    return key


def cose_key(public_key: AnyKey) -> dict[int, int | bytes]:
    """The COSE_Key map of a P-256 public key, ready for `cbor.encode`."""
    pt = point(public_key)
    return {KTY: KTY_EC2, KID: hashlib.sha256(pt).digest()[:8], CRV: CRV_P256,
            X: pt[1:33], Y: pt[33:]}


def decode_cose_key(m: object) -> tuple[PublicKey, bytes]:
    """(public key, kid) from a decoded COSE_Key map; Malformed unless exactly per the spec."""
    if type(m) is not dict or len(m) != 5:
        raise Malformed("COSE_Key must be a map of 5 entries")
    k, x, y = m.get(KID), m.get(X), m.get(Y)
    if (type(m.get(KTY)) is not int or m[KTY] != KTY_EC2
            or type(m.get(CRV)) is not int or m[CRV] != CRV_P256):
        raise Malformed("COSE_Key is not kty EC2, crv P-256")
    if type(k) is not bytes or len(k) != 8:
        raise Malformed("COSE_Key kid must be 8 bytes")
    if type(x) is not bytes or type(y) is not bytes or len(x) != 32 or len(y) != 32:
        raise Malformed("COSE_Key x and y must be 32 bytes each")
    pt = b"\x04" + x + y
    key = public_key_from_point(pt)
    if hashlib.sha256(pt).digest()[:8] != k:
        raise Malformed("COSE_Key kid does not match the key")
    return key, k
