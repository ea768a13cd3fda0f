"""The tap URL, its NDEF URI record and the Type 2 tag TLV around it.

- URL: `https://<host>/t/<b64>`, b64 = base64url without padding (RFC 4648 §5) of the CBOR
  sequence (RFC 8742) token || credential. Decoding is strict: only the URL-safe alphabet, no
  padding, canonical trailing bits.
- NDEF record (NFC Forum NDEF 1.0 §3.2; URI RTD §3): one record, MB and ME set, TNF 1 (well
  known), type "U", URI identifier code 0x04 = "https://"; short record (SR, 1-byte payload
  length) up to 255 payload bytes, else the 4-byte length form.
- TLV (NFC Forum Type 2 Tag §2.3): `03 <len>` or `03 FF <len16>` from 255 bytes on, the
  message, then the terminator `FE`. Reading skips NULL TLVs and lock/memory control TLVs.
"""
from __future__ import annotations

import base64
import re

from .claims import CREDENTIAL_LIMIT, NDEF_LIMIT, TOKEN_LIMIT
from .errors import Malformed, Oversized
from .tap import split_sequence

__all__ = ["tap_url", "parse_tap_url", "decode_tap_b64", "b64url", "uri_record",
           "parse_uri_record", "tlv", "parse_tlv", "tag_data", "read_tag_url", "TAP_PATH"]

TAP_PATH = "/t/"
HTTPS = "https://"
URI_HTTPS = 0x04                        # URI RTD identifier code for "https://"
TLV_NULL, TLV_NDEF, TLV_TERMINATOR = 0x00, 0x03, 0xFE
MB, ME, CF, SR, IL, TNF_MASK, TNF_WELL_KNOWN = 0x80, 0x40, 0x20, 0x10, 0x08, 0x07, 0x01
MAX_B64 = -(-(TOKEN_LIMIT + CREDENTIAL_LIMIT) * 4 // 3)    # 1024 characters
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def b64url(data: bytes) -> str:
    """base64url without padding, as str."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(s: object) -> bytes:
    if type(s) is not str or not _B64URL.fullmatch(s) or len(s) % 4 == 1:
        raise Malformed("not base64url without padding")
    data = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    if b64url(data) != s:
        raise Malformed("base64url with non-zero trailing bits")
    return data


def tap_url(host: str, token: bytes, credential: bytes) -> str:
    """The URL the badge's tag carries: https://<host>/t/<b64url(token || credential)>."""
    return HTTPS + host + TAP_PATH + b64url(token + credential)


def decode_tap_b64(s: str) -> tuple[bytes, bytes]:
    """(token, credential) from the b64 part of a tap URL."""
    if type(s) is str and len(s) > MAX_B64:
        raise Oversized(f"{len(s)} base64url characters, limit {MAX_B64}")
    return split_sequence(_b64url_decode(s))


def parse_tap_url(url: str) -> tuple[bytes, bytes]:
    """(token, credential) from a whole tap URL; the host is not checked here."""
    if type(url) is not str or not url.startswith(HTTPS):
        raise Malformed("not an https:// URL")
    host, _, path = url[len(HTTPS):].partition("/")
    if not host or not path.startswith(TAP_PATH[1:]):
        raise Malformed("not a tap URL (https://<host>/t/<b64>)")
    return decode_tap_b64(path[len(TAP_PATH) - 1:])


def uri_record(url: str) -> bytes:
    """One NDEF message holding one URI record for an https:// URL."""
    if not url.startswith(HTTPS):
        raise ValueError("the badge's URL is https://")
    payload = bytes((URI_HTTPS,)) + url[len(HTTPS):].encode()
    if len(payload) < 256:
        return bytes((MB | ME | SR | TNF_WELL_KNOWN, 1, len(payload))) + b"U" + payload
    return (bytes((MB | ME | TNF_WELL_KNOWN, 1)) + len(payload).to_bytes(4, "big") + b"U"
            + payload)


def parse_uri_record(message: bytes | bytearray | memoryview) -> str:
    """The https:// URL of an NDEF message of one URI record."""
    if not isinstance(message, (bytes, bytearray, memoryview)):
        raise Malformed("NDEF message must be bytes")
    m = bytes(message)
    if len(m) > NDEF_LIMIT:
        raise Oversized(f"NDEF message of {len(m)} bytes, limit {NDEF_LIMIT}")
    if len(m) < 3:
        raise Malformed("NDEF message truncated")
    flags, type_len = m[0], m[1]
    if flags & (MB | ME) != MB | ME or flags & CF:
        raise Malformed("expected exactly one unchunked record")
    if flags & TNF_MASK != TNF_WELL_KNOWN:
        raise Malformed("record is not TNF well-known")
    if flags & SR:
        plen, i = m[2], 3
    else:
        plen, i = int.from_bytes(m[2:6], "big"), 6
    id_len = 0
    if flags & IL:
        if i >= len(m):
            raise Malformed("NDEF record truncated")
        id_len, i = m[i], i + 1
    rtype = m[i:i + type_len]
    payload = m[i + type_len + id_len:]
    if len(m) < i or rtype != b"U":
        raise Malformed("record is not a URI record")
    if len(payload) != plen:
        raise Malformed("NDEF record truncated" if len(payload) < plen else
                        "bytes after the NDEF record")
    if not payload or payload[0] != URI_HTTPS:
        raise Malformed("URI record is not https://")
    try:
        return HTTPS + payload[1:].decode()
    except UnicodeDecodeError as err:
        raise Malformed("URI is not UTF-8") from err


def tlv(message: bytes) -> bytes:
    """The NDEF message TLV followed by the terminator TLV."""
    n = len(message)
    head = bytes((TLV_NDEF, n)) if n < 255 else bytes((TLV_NDEF, 0xFF)) + n.to_bytes(2, "big")
    return head + message + bytes((TLV_TERMINATOR,))


def parse_tlv(memory: bytes | bytearray | memoryview) -> bytes:
    """The NDEF message from Type 2 tag user memory (starting at the first TLV)."""
    if not isinstance(memory, (bytes, bytearray, memoryview)):
        raise Malformed("tag memory must be bytes")
    mem = bytes(memory)
    i = 0
    while i < len(mem):
        t = mem[i]
        if t == TLV_NULL:
            i += 1
            continue
        if t == TLV_TERMINATOR:
            break
        if i + 2 > len(mem):
            raise Malformed("TLV truncated")
        n, i = mem[i + 1], i + 2
        if n == 0xFF:
            if i + 2 > len(mem):
                raise Malformed("TLV truncated")
            n, i = int.from_bytes(mem[i:i + 2], "big"), i + 2
        if t == TLV_NDEF:
            if n > NDEF_LIMIT:
                raise Oversized(f"NDEF message of {n} bytes, limit {NDEF_LIMIT}")
            if i + n > len(mem):
                raise Malformed("NDEF TLV truncated")
            return mem[i:i + n]
        i += n
    raise Malformed("no NDEF message TLV")


def tag_data(host: str, token: bytes, credential: bytes) -> bytes:
    """The bytes a badge writes to its tag's user memory."""
    return tlv(uri_record(tap_url(host, token, credential)))


def read_tag_url(memory: bytes | bytearray | memoryview) -> str:
    """The URL on a tag, from its user memory."""
    return parse_uri_record(parse_tlv(memory))
