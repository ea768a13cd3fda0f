"""Strict CBOR: one deterministically encoded item in, one out.

RFC 8949 §4.2.1 (core deterministic encoding) as `docs/protocol.md` requires it: shortest
integers and lengths, definite lengths, sorted map keys, no duplicate keys, no floats, no
`undefined`, no tags except tag 18 (RFC 9052 §2, COSE_Sign1) on the outermost item where the
caller allows it. `decode` checks this the cheap way: it decodes with cbor2, re-encodes
deterministically and compares the bytes; the re-encoder (`_canonical`) accepts only the
allowed types, so it is the type check too. It gives the bytes of
`cbor2.dumps(value, canonical=True)` (the tests hold it to that) in a third of the time.

Key order. cbor2's `canonical=True` sorts map keys length-first (the RFC 7049 §3.9 rule);
RFC 8949 §4.2.1 sorts by the bytewise order of the encoded keys. The two differ only when a
shorter encoded key is bytewise greater than a longer one (e.g. -1 = 0x20 against 24 = 0x1818).
Every key set in `docs/protocol.md` is ordered the same both ways (the tests check each one), so
for this wire format the cbor2 encoding *is* the RFC 8949 encoding. A new map mixing keys
-24..-1 with keys >= 24 would need its own encoder.

The `head`/`bstr`/`tstr`/`uint` helpers build encodings by concatenation; the hot paths (the
Sig_structure, the tap token) use them instead of cbor2.
"""
from __future__ import annotations

import io
from typing import Any

import cbor2

from .errors import Malformed, Oversized

__all__ = ["decode", "encode", "item_length", "as_bytes", "head", "bstr", "tstr", "uint",
           "MAX_DEPTH", "BytesLike"]

# what the parse functions of host.wire take as input (anything else is `malformed`)
BytesLike = bytes | bytearray | memoryview

MAX_DEPTH = 16          # our deepest structure (trust list) nests 5 levels
_INT_MIN = -(1 << 64)   # CBOR major types 0 and 1 hold -2**64 .. 2**64-1; beyond is a bignum tag
_INT_END = 1 << 64
_SMALL = [bytes((b,)) for b in range(256)]


def as_bytes(data: object) -> bytes:
    """`data` as bytes; anything not bytes-like is malformed."""
    if type(data) is bytes:
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise Malformed(f"expected bytes, got {type(data).__name__}")


def head(major: int, n: int) -> bytes:
    """The initial byte(s) of an item of major type `major` (0x00, 0x20, ...) and argument n."""
    if n < 24:
        return _SMALL[major | n]
    if n < 0x100:
        return bytes((major | 24, n))
    if n < 0x10000:
        return _SMALL[major | 25] + n.to_bytes(2, "big")
    if n < 0x100000000:
        return _SMALL[major | 26] + n.to_bytes(4, "big")
    return _SMALL[major | 27] + n.to_bytes(8, "big")


def bstr(b: bytes) -> bytes:
    """Deterministic encoding of a byte string."""
    return head(0x40, len(b)) + b


def tstr(s: str) -> bytes:
    """Deterministic encoding of a text string."""
    b = s.encode()
    return head(0x60, len(b)) + b


def uint(n: int) -> bytes:
    """Deterministic encoding of an integer 0 <= n < 2**64."""
    return head(0x00, n)


def _key(k: Any) -> bytes:
    """Encoding of a map key (int, text or bytes only)."""
    t = type(k)
    if t is int:
        return _int(k)
    if t is str:
        return tstr(k)
    if t is bytes:
        return head(0x40, len(k)) + k
    raise Malformed(f"map key of type {t.__name__}")


def _int(v: int) -> bytes:
    if 0 <= v < _INT_END:
        return head(0x00, v)
    if _INT_MIN <= v < 0:
        return head(0x20, -1 - v)
    raise Malformed("integer outside the 64-bit range (bignum tag)")


def _canonical(value: Any, out: list[bytes], depth: int) -> None:
    """Append the deterministic encoding of `value` to `out`; Malformed for any type the wire
    format does not allow, and for maps whose keys are not in cbor2's canonical order (shorter
    encoded key first, then bytewise) or repeat. The same bytes as
    `cbor2.dumps(value, canonical=True)` (the tests compare the two), in one pass that is also
    the type check, at a third of the cost."""
    t = type(value)
    if t is int:
        out.append(_int(value))
    elif t is bytes:
        out.append(head(0x40, len(value)))
        out.append(value)
    elif t is str:
        b = value.encode()
        out.append(head(0x60, len(b)))
        out.append(b)
    elif t is dict or t is list:
        if depth >= MAX_DEPTH:
            raise Malformed(f"nested deeper than {MAX_DEPTH}")
        if t is list:
            out.append(head(0x80, len(value)))
            for item in value:
                _canonical(item, out, depth + 1)
            return
        out.append(head(0xa0, len(value)))
        prev = b""
        for k, item in value.items():
            kb = _key(k)
            if len(kb) < len(prev) or (len(kb) == len(prev) and kb <= prev):
                raise Malformed("map keys not in deterministic order")
            prev = kb
            out.append(kb)
            _canonical(item, out, depth + 1)
    elif value is True:
        out.append(b"\xf5")
    elif value is False:
        out.append(b"\xf4")
    elif value is None:
        out.append(b"\xf6")
    elif t is float:
        raise Malformed("floating-point value")
    elif t is cbor2.CBORTag:
        raise Malformed(f"tag {value.tag} not allowed here")
    else:
        # undefined, simple values and whatever cbor2 made of a semantic tag
        # (datetime, Decimal, UUID, set, ...)
        raise Malformed(f"{t.__name__} not allowed")


def _decode_prefix(data: bytes) -> tuple[Any, int]:
    """(value, length) of the first item in `data`, not yet checked for strictness."""
    if not data:
        raise Malformed("empty input")
    fp = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(fp).decode()
    except Exception as err:  # cbor2 raises CBORDecodeError, EOF, ValueError, ...
        raise Malformed(f"not well-formed CBOR ({err})") from err
    return value, fp.tell()


def _strict_bytes(value: object, tag18: bool) -> bytes:
    out = []
    try:
        if tag18 and type(value) is cbor2.CBORTag and value.tag == 18:
            out.append(b"\xd2")
            _canonical(value.value, out, 1)
        else:
            _canonical(value, out, 0)
    except UnicodeEncodeError as err:
        raise Malformed("text is not UTF-8") from err
    return b"".join(out)


def decode(data: BytesLike, limit: int, *, tag18: bool = False) -> Any:
    """Decode exactly one strict item from `data` (at most `limit` bytes).

    With `tag18`, the outermost item may be tag 18 (returned as a `cbor2.CBORTag`); no other
    tag is allowed anywhere.
    """
    data = as_bytes(data)
    if len(data) > limit:
        raise Oversized(f"{len(data)} bytes, limit {limit}")
    if not data:
        raise Malformed("empty input")
    try:
        value = cbor2.loads(data)
    except Exception as err:  # cbor2 raises CBORDecodeError, EOF, ValueError, ...
        raise Malformed(f"not well-formed CBOR ({err})") from err
    canonical = _strict_bytes(value, tag18)
    if canonical != data:
        if data.startswith(canonical) and _decode_prefix(data)[1] == len(canonical):
            raise Malformed(f"{len(data) - len(canonical)} trailing bytes after the item")
        raise Malformed("not in deterministic encoding (indefinite length, long form, "
                        "duplicate keys)")
    return value


def item_length(data: BytesLike) -> int:
    """Length in bytes of the first item of a CBOR sequence (RFC 8742); not checked strictly."""
    return _decode_prefix(as_bytes(data))[1]


def encode(value: object) -> bytes:
    """Deterministic encoding of `value` (a tag-18 `CBORTag` allowed at the top); Malformed
    if `value` holds anything the wire format does not allow (floats, other tags, ...)."""
    try:
        data = cbor2.dumps(value, canonical=True)
    except Exception as err:
        raise Malformed(f"cannot encode ({err})") from err
    decode(data, len(data), tag18=True)
    return data
