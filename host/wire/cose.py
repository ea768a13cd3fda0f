"""COSE_Sign1 with ES256, tagged, strict, and fast (RFC 9052 §4.2, §4.4; RFC 9053 §2.1).

Wire shape (`docs/protocol.md`): `18([protected bstr, {4: kid8}, payload bstr, r||s 64])`.

Parsing. Tokens and credentials, with protected `{1: -7}` (h'A10126'), are almost always
`D2 84 43 A10126 A1 04 48 <kid> <bstr payload> 58 40 <r||s>`; `_fast_es256` recognises that
byte pattern (shortest-form payload length, exact total length) and slices the fields out
without decoding. Anything else takes the general path: decode the outer item once with cbor2,
check the exact types, then check deterministic encoding by rebuilding the expected bytes by
concatenation and comparing (this also catches trailing bytes, indefinite lengths and long-form
heads). There a protected header other than h'A10126' is decoded strictly and may hold only
`alg` (1) and `typ` (16, RFC 9596). The tests hold the two paths to each other.

The Sig_structure (RFC 9052 §4.4) `["Signature1", protected, h'', payload]` is built by
concatenation with the protected bytes exactly as received. Signatures are 64 bytes r||s
(RFC 9053 §2.1), turned into DER for `cryptography` by a small encoder here (X.690 §8.3).
Signing uses RFC 6979 deterministic nonces where OpenSSL offers them, so vectors reproduce.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from . import keys
from .cbor import BytesLike, as_bytes, bstr, decode, tstr
from .claims import only_keys
from .errors import BadSignature, Malformed, Oversized, WrongAlg

__all__ = ["Sign1", "sign1", "parse_sign1", "verify", "sig_structure", "protected_header",
           "PROTECTED_ES256", "ALG_ES256", "HDR_ALG", "HDR_TYP", "HDR_KID"]

ALG_ES256 = -7
HDR_ALG, HDR_KID, HDR_TYP = 1, 4, 16
PROTECTED_ES256 = b"\xa1\x01\x26"                   # {1: -7}
_SIG1 = b"\x84\x6aSignature1"                       # [ "Signature1", ...
_SIG1_ES256 = _SIG1 + b"\x43\xa1\x01\x26\x40"       # ... h'A10126', h'', ...
_TAGGED_ARRAY = b"\xd2\x84"                         # 18([ ...
_UNPROTECTED = b"\xa1\x04\x48"                      # {4: h'<8 bytes>'}
_SIG_HEAD = b"\x58\x40"
_FAST_PREFIX = _TAGGED_ARRAY + b"\x43" + PROTECTED_ES256 + _UNPROTECTED
_SMALL = [bytes((b,)) for b in range(256)]
_VERIFY = ec.ECDSA(hashes.SHA256())
try:
    _SIGN = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
except Exception:  # cryptography or OpenSSL without RFC 6979
    _SIGN = _VERIFY


class Sign1(NamedTuple):
    """A parsed, not yet verified COSE_Sign1."""

    protected_bytes: bytes
    protected: dict[int, Any]
    kid: bytes
    payload_bytes: bytes
    signature: bytes

    def sig_structure(self) -> bytes:
        return sig_structure(self.protected_bytes, self.payload_bytes)


def protected_header(typ: str | None = None) -> bytes:
    """Protected header bytes: `{1: -7}`, or `{1: -7, 16: typ}`."""
    if typ is None:
        return PROTECTED_ES256
    return b"\xa2\x01\x26\x10" + tstr(typ)


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    """The bytes an ES256 COSE_Sign1 signs (RFC 9052 §4.4), external_aad empty."""
    if protected == PROTECTED_ES256:
        return _SIG1_ES256 + bstr(payload)
    return _SIG1 + bstr(protected) + b"\x40" + bstr(payload)


def _der(sig: bytes) -> bytes:
    """DER ECDSA-Sig-Value of 64 bytes r||s (X.690 §8.3: minimal two's-complement INTEGERs)."""
    r = sig[:32].lstrip(b"\0")
    s = sig[32:].lstrip(b"\0")
    if not r or r[0] & 0x80:
        r = b"\0" + r
    if not s or s[0] & 0x80:
        s = b"\0" + s
    return b"".join((b"\x30", _SMALL[len(r) + len(s) + 4], b"\x02", _SMALL[len(r)], r,
                     b"\x02", _SMALL[len(s)], s))


def sign1(private_key: keys.PrivateKey, payload: bytes, protected: bytes = PROTECTED_ES256,
          kid: bytes | None = None) -> bytes:
    """A tagged COSE_Sign1 over `payload` (bytes), signed ES256 by `private_key`."""
    if kid is None:
        kid = keys.kid(private_key)
    if type(kid) is not bytes or len(kid) != 8:
        raise ValueError("kid must be 8 bytes")
    der = private_key.sign(sig_structure(protected, payload), _SIGN)
    r, s = decode_dss_signature(der)
    return b"".join((_TAGGED_ARRAY, bstr(protected), _UNPROTECTED, kid, bstr(payload),
                     _SIG_HEAD, r.to_bytes(32, "big"), s.to_bytes(32, "big")))


def _decode_protected(p: bytes, limit: int) -> dict[int, Any]:
    m = decode(p, limit)
    if type(m) is not dict:
        raise Malformed("protected header is not a map")
    only_keys(m, (HDR_ALG, HDR_TYP), "protected header")
    alg = m.get(HDR_ALG)
    if alg is None:
        raise Malformed("protected header has no alg")
    if type(alg) is not int or alg != ALG_ES256:
        raise WrongAlg(f"alg {alg!r}, expected -7 (ES256)")
    if HDR_TYP in m and type(m[HDR_TYP]) is not str:
        raise Malformed("typ must be a text string")
    return m


def _fast_es256(data: bytes) -> Sign1 | None:
    """The Sign1 if `data` is exactly 18([h'A10126', {4: kid}, payload, sig64]) in
    deterministic encoding, else None (and the general path decides). Byte-for-byte the
    shape the general path would accept and re-encode; the tests check the two agree."""
    if data[:9] != _FAST_PREFIX or len(data) < 84:
        return None
    h = data[17]
    if h < 0x58:
        i, n = 18, h - 0x40
        if n < 0:
            return None
    elif h == 0x58:
        i, n = 19, data[18]
        if n < 24:
            return None
    elif h == 0x59:
        i, n = 20, (data[18] << 8) | data[19]
        if n < 256:
            return None
    else:
        return None
    j = i + n
    if len(data) != j + 66 or data[j:j + 2] != _SIG_HEAD:
        return None
    return Sign1(PROTECTED_ES256, {HDR_ALG: ALG_ES256}, data[9:17], data[i:j], data[j + 2:])


def parse_sign1(data: BytesLike, limit: int) -> Sign1:
    """Parse a tagged COSE_Sign1 strictly; the signature is not checked (see `verify`)."""
    if type(data) is not bytes:
        data = as_bytes(data)
    if len(data) > limit:
        raise Oversized(f"{len(data)} bytes, limit {limit}")
    msg = _fast_es256(data)
    if msg is not None:
        return msg
    try:
        obj = cbor2.loads(data)
    except Exception as err:
        raise Malformed(f"not well-formed CBOR ({err})") from err
    if type(obj) is not cbor2.CBORTag or obj.tag != 18:
        raise Malformed("not a tagged COSE_Sign1 (tag 18)")
    v = obj.value
    if type(v) is not list or len(v) != 4:
        raise Malformed("COSE_Sign1 must be an array of 4")
    p, u, payload, sig = v
    if type(p) is not bytes or type(payload) is not bytes or type(sig) is not bytes:
        raise Malformed("protected, payload and signature must be byte strings")
    if type(u) is not dict or len(u) != 1:
        raise Malformed("unprotected header must be exactly {4: kid}")
    kid = u.get(HDR_KID)
    if type(kid) is not bytes or len(kid) != 8:
        raise Malformed("unprotected header must be exactly {4: kid}, kid 8 bytes")
    expected = b"".join((_TAGGED_ARRAY, bstr(p), _UNPROTECTED, kid, bstr(payload), bstr(sig)))
    if expected != data:
        if data.startswith(expected):
            raise Malformed(f"{len(data) - len(expected)} trailing bytes after the item")
        raise Malformed("not in deterministic encoding")
    protected = {HDR_ALG: ALG_ES256} if p == PROTECTED_ES256 else _decode_protected(p, limit)
    if len(sig) != 64:
        raise BadSignature(f"signature is {len(sig)} bytes, not 64 (r||s)")
    return Sign1(p, protected, kid, payload, sig)


def verify(msg: Sign1, public_key: keys.PublicKey) -> None:
    """Check `msg`'s signature with `public_key`; BadSignature if it does not verify."""
    sig = msg.signature
    if len(sig) != 64:
        raise BadSignature(f"signature is {len(sig)} bytes, not 64 (r||s)")
    try:
        public_key.verify(_der(sig), sig_structure(msg.protected_bytes, msg.payload_bytes),
                          _VERIFY)
    except InvalidSignature as err:
        raise BadSignature() from err
