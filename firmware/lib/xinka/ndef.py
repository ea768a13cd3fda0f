"""NDEF URI record on a Type 2 Tag, and base64url (docs/protocol.md "NDEF on the badge's tag").

Record layout: NFC Forum NDEF 1.0 §3.2 (header MB|ME|SR|TNF, type length, payload length
1 or 4 bytes, type). URI payload: NFC Forum URI RTD 1.0 §3.2.2 (one prefix byte; we use
0x04 "https://", 0x03 "http://", 0x00 none). TLV: NFC Forum Type 2 Tag 1.0 §2.3
(NDEF Message TLV 0x03, 1- or 3-byte length; Terminator TLV 0xFE).
base64url: RFC 4648 §5, no padding.
"""
import binascii

from xinka import cbor

from xinka.compat import const

USER_MEMORY_1K = const(888)     # NT3H2111 1k: user memory bytes (NT3H2111 datasheet §8.3)

_TLV_NDEF = const(0x03)
_TLV_TERMINATOR = const(0xFE)
_HDR_SHORT = const(0xD1)        # MB|ME|SR, TNF 1 (well-known)
_HDR_LONG = const(0xC1)         # MB|ME, TNF 1
_TYPE_U = const(0x55)
_HTTPS = const(0x04)
_HTTP = const(0x03)

_ALPHABET_STR = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_ALPHABET = _ALPHABET_STR.encode()


class NDEFError(ValueError):
    """Bytes that are not exactly what this module writes."""


def b64url(data):
    """base64url of data, no padding, as str."""
    s = binascii.b2a_base64(data).decode().rstrip("\n=")
    return s.replace("+", "-").replace("/", "_")


def b64url_decode(s):
    """Strict inverse of b64url: alphabet only, no padding, canonical trailing bits."""
    if isinstance(s, (bytes, bytearray)):
        s = bytes(s).decode()
    if len(s) % 4 == 1:
        raise NDEFError("bad base64url length")
    for c in s:
        if c not in _ALPHABET_STR:
            raise NDEFError("bad base64url character")
    data = binascii.a2b_base64(s.replace("-", "+").replace("_", "/") + "=" * (-len(s) % 4))
    if b64url(data) != s:
        raise NDEFError("non-canonical base64url")
    return data


def tap_url(host, token, credential):
    """https://<host>/t/<b64url(token || credential)>"""
    return "https://" + host + "/t/" + b64url(bytes(token) + bytes(credential))


def uri_record(url):
    """One NDEF record (MB|ME, TNF 1, type "U") carrying url; short form when it fits."""
    code = 0
    if url.startswith("https://"):
        code, url = _HTTPS, url[8:]
    elif url.startswith("http://"):
        code, url = _HTTP, url[7:]
    raw = url.encode("utf-8")
    plen = 1 + len(raw)
    out = bytearray()
    if plen <= 0xFF:
        out.extend(bytes((_HDR_SHORT, 1, plen, _TYPE_U, code)))
    else:
        out.extend(bytes((_HDR_LONG, 1, plen >> 24, (plen >> 16) & 0xFF, (plen >> 8) & 0xFF,
                          plen & 0xFF, _TYPE_U, code)))
    out.extend(raw)
    return bytes(out)


def tlv(message):
    """NDEF Message TLV followed by the Terminator TLV."""
    n = len(message)
    if n > 0xFFFE:
        raise NDEFError("message too long for a TLV")
    if n <= 0xFE:
        out = bytearray((_TLV_NDEF, n))
    else:
        out = bytearray((_TLV_NDEF, 0xFF, n >> 8, n & 0xFF))
    out.extend(message)
    out.append(_TLV_TERMINATOR)
    return bytes(out)


def fits(tlv_bytes, capacity=USER_MEMORY_1K):
    """True if the TLV (terminator included) fits the tag's user memory."""
    return len(tlv_bytes) <= capacity


def parse_tlv(data):
    """The message of the NDEF TLV at data[0]; it must be followed by a Terminator TLV.

    Bytes after the terminator are ignored (tag memory past the NDEF area).
    """
    if len(data) < 2 or data[0] != _TLV_NDEF:
        raise NDEFError("no NDEF TLV")
    n = data[1]
    pos = 2
    if n == 0xFF:
        if len(data) < 4:
            raise NDEFError("truncated TLV")
        n = (data[2] << 8) | data[3]
        pos = 4
        if n <= 0xFE or n == 0xFFFF:
            raise NDEFError("non-canonical TLV length")
    if len(data) < pos + n + 1:
        raise NDEFError("truncated TLV")
    if data[pos + n] != _TLV_TERMINATOR:
        raise NDEFError("no terminator TLV")
    return bytes(data[pos:pos + n])


def parse_uri_record(msg):
    """The URL of a message holding exactly one record as uri_record writes it."""
    if len(msg) < 5:
        raise NDEFError("truncated record")
    hdr = msg[0]
    if hdr == _HDR_SHORT:
        plen = msg[2]
        pos = 3
    elif hdr == _HDR_LONG and len(msg) >= 8:
        plen = (msg[2] << 24) | (msg[3] << 16) | (msg[4] << 8) | msg[5]
        pos = 6
    else:
        raise NDEFError("not a single well-known record")
    if msg[1] != 1 or msg[pos] != _TYPE_U:
        raise NDEFError("not a URI record")
    pos += 1
    if plen < 1 or len(msg) != pos + plen:
        raise NDEFError("bad payload length")
    code = msg[pos]
    # MicroPython's decoder lets overlongs and surrogates through: check first
    if not cbor.utf8_ok(msg, pos + 1, len(msg)):
        raise NDEFError("URI is not UTF-8")
    rest = str(bytes(msg[pos + 1:]), "utf-8")
    url = ("https://" if code == _HTTPS else "http://" if code == _HTTP else "") + rest
    if code not in (0, _HTTP, _HTTPS) or uri_record(url) != bytes(msg):
        raise NDEFError("non-canonical URI record")
    return url


def _put_b64(buf, pos, a, b):
    # base64url of a || b into buf at pos, one byte at a time: no heap allocation
    na = len(a)
    n = na + len(b)
    acc = 0
    bits = 0
    i = 0
    while i < n:
        acc = (acc << 8) | (a[i] if i < na else b[i - na])
        bits += 8
        while bits >= 6:
            bits -= 6
            buf[pos] = _ALPHABET[(acc >> bits) & 0x3F]
            pos += 1
        acc &= (1 << bits) - 1
        i += 1
    if bits:
        buf[pos] = _ALPHABET[(acc << (6 - bits)) & 0x3F]
        pos += 1
    return pos


def _put(buf, pos, src):
    i = 0
    n = len(src)
    while i < n:
        buf[pos] = src[i]
        pos += 1
        i += 1
    return pos


def tap_tlv_into(buf, host, token, credential):
    """Write tlv(uri_record(tap_url(host, token, credential))) into buf; return its length.

    host is ASCII bytes. Allocates nothing, so it can run at tap time with the heap locked.
    """
    nb = (4 * (len(token) + len(credential)) + 2) // 3
    plen = 1 + len(host) + 3 + nb
    rlen = 4 + plen if plen <= 0xFF else 7 + plen
    total = (2 if rlen <= 0xFE else 4) + rlen + 1
    if total > len(buf) or rlen > 0xFFFE:
        raise NDEFError("buffer too small")
    buf[0] = _TLV_NDEF
    if rlen <= 0xFE:
        buf[1] = rlen
        pos = 2
    else:
        buf[1] = 0xFF
        buf[2] = rlen >> 8
        buf[3] = rlen & 0xFF
        pos = 4
    if plen <= 0xFF:
        buf[pos] = _HDR_SHORT
        buf[pos + 1] = 1
        buf[pos + 2] = plen
        pos += 3
    else:
        buf[pos] = _HDR_LONG
        buf[pos + 1] = 1
        buf[pos + 2] = 0
        buf[pos + 3] = 0
        buf[pos + 4] = plen >> 8
        buf[pos + 5] = plen & 0xFF
        pos += 6
    buf[pos] = _TYPE_U
    buf[pos + 1] = _HTTPS
    pos = _put(buf, pos + 2, host)
    pos = _put(buf, pos, b"/t/")
    pos = _put_b64(buf, pos, token, credential)
    buf[pos] = _TLV_TERMINATOR
    return pos + 1
