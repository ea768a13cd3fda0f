"""COSE_Sign1 with ES256, tagged (RFC 9052 §4.2, §4.4; alg -7 from RFC 9053 §2.1).

Shape (docs/protocol.md): 18([protected bstr, {4: kid}, payload bstr, signature bstr .size 64]).
The signature is raw r || s over SHA-256 of Sig_structure; signing itself is the caller's
`signer(digest32) -> 64 bytes`, so this module needs no big-integer code.
"""
import hashlib

from xinka import cbor

from xinka.compat import const

PROTECTED_ES256 = b"\xa1\x01\x26"   # {1: -7}
TAG_SIGN1 = const(18)
KID_SIZE = const(8)
SIG_SIZE = const(64)
_ALG = const(1)
_KID = const(4)
_ES256 = const(-7)

# ["Signature1", ...: array(4) then tstr(10) "Signature1" (§4.4)
_SIG1_PREFIX = b"\x84\x6aSignature1"


def _bstr(out, data):
    cbor.write_head(out, 2, len(data))
    out.extend(data)


def sig_structure(protected, payload):
    """Encoded ["Signature1", protected, h'', payload] (§4.4)."""
    out = bytearray(_SIG1_PREFIX)
    _bstr(out, protected)
    out.append(0x40)   # external_aad h''
    _bstr(out, payload)
    return bytes(out)


def sign1(protected, kid, payload, signer):
    """Sign payload; return the tagged COSE_Sign1 bytes. signer(digest32) -> r || s."""
    if len(kid) != KID_SIZE:
        raise ValueError("kid must be 8 bytes")
    sig = signer(hashlib.sha256(sig_structure(protected, payload)).digest())
    if len(sig) != SIG_SIZE:
        raise ValueError("signer must return 64 bytes r||s")
    out = bytearray(b"\xd2\x84")   # tag 18, array(4)
    _bstr(out, protected)
    out.append(0xA1)               # {4: kid}
    out.append(_KID)
    _bstr(out, kid)
    _bstr(out, payload)
    _bstr(out, sig)
    return bytes(out)


def parse_sign1(data):
    """Strictly parse a tagged COSE_Sign1; return (protected, kid, payload, signature).

    Checks the shape only (alg ES256 in the protected map, kid 8 bytes, signature 64 bytes);
    the signature is not verified here. Raises cbor.CBORError.
    """
    obj = cbor.loads(data)
    if not isinstance(obj, cbor.Tag) or obj.tag != TAG_SIGN1:
        raise cbor.CBORError("not a tagged COSE_Sign1")
    arr = obj.value
    if not isinstance(arr, list) or len(arr) != 4:
        raise cbor.CBORError("COSE_Sign1 is not an array of 4")
    protected, unprotected, payload, sig = arr
    if not (isinstance(protected, bytes) and isinstance(payload, bytes)
            and isinstance(sig, bytes)):
        raise cbor.CBORError("COSE_Sign1 field is not a bstr")
    hdr = cbor.loads(protected)
    if not isinstance(hdr, dict) or hdr.get(_ALG) != _ES256:
        raise cbor.CBORError("alg is not ES256")
    if not isinstance(unprotected, dict) or len(unprotected) != 1:
        raise cbor.CBORError("unprotected header must be {4: kid}")
    kid = unprotected.get(_KID)
    if not isinstance(kid, bytes) or len(kid) != KID_SIZE:
        raise cbor.CBORError("kid must be 8 bytes")
    if len(sig) != SIG_SIZE:
        raise cbor.CBORError("signature must be 64 bytes")
    return protected, kid, payload, sig
