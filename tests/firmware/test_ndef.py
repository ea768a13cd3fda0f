"""firmware/lib/ndef.py: URI record, Type 2 Tag TLV, base64url; cross-checked with ndeflib."""
import base64

import pytest


from xinka import ndef as fw  # noqa: E402
ndeflib = pytest.importorskip("ndef")     # PyPI ndeflib

HOST = "verifier.xk-example.cn"     # 22 characters


def ndeflib_record(url):
    return b"".join(ndeflib.message_encoder([ndeflib.UriRecord(url)]))


# ---- base64url ----

@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 62, 63, 64, 410])
def test_b64url(n):
    data = bytes((i * 37 + 11) & 0xFF for i in range(n))
    s = fw.b64url(data)
    assert s == base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    assert fw.b64url_decode(s) == data
    assert fw.b64url_decode(s.encode()) == data


@pytest.mark.parametrize("s", ["A", "AAAAA", "AA==", "AA=", "+/8", "ab/c", "ab c", "AB", "AAB",
                               "\u00e9AAA", "\ufeffAAA"])
def test_b64url_decode_rejects(s):
    with pytest.raises(ValueError):
        fw.b64url_decode(s)


# ---- URI record ----

def test_short_record_bytes():
    url = "https://" + HOST + "/t/abc"
    rec = fw.uri_record(url)
    body = (HOST + "/t/abc").encode()
    assert rec == bytes([0xD1, 0x01, 1 + len(body), 0x55, 0x04]) + body
    assert rec == ndeflib_record(url)
    assert fw.parse_uri_record(rec) == url


@pytest.mark.parametrize("url,code", [("http://a.cn/x", 0x03), ("x-custom:abc", 0x00),
                                      ("https://a.cn/水", 0x04)])
def test_prefix_codes(url, code):
    rec = fw.uri_record(url)
    assert rec[4] == code
    assert rec == ndeflib_record(url)
    assert fw.parse_uri_record(rec) == url


@pytest.mark.parametrize("plen", [254, 255, 256, 1000])
def test_short_long_boundary(plen):
    url = "https://" + "a" * (plen - 1)       # payload = prefix byte + rest
    rec = fw.uri_record(url)
    if plen <= 255:
        assert rec[:3] == bytes([0xD1, 1, plen]) and len(rec) == 4 + plen
    else:
        assert rec[:6] == bytes([0xC1, 1]) + plen.to_bytes(4, "big") and len(rec) == 7 + plen
    assert rec == ndeflib_record(url)
    assert fw.parse_uri_record(rec) == url
    (parsed,) = ndeflib.message_decoder(rec)
    assert parsed.iri == url


@pytest.mark.parametrize("msg", [
    b"", b"\xd1\x01\x02\x55", bytes.fromhex("d1010455046162"),      # payload length mismatch
    bytes.fromhex("d101025504610000"),                               # trailing bytes
    bytes.fromhex("910102550461") + bytes.fromhex("510102550461"),   # two records
    bytes.fromhex("d20102550461"),                                   # TNF 2
    bytes.fromhex("d10102540461"),                                   # type "T"
    bytes.fromhex("d1020255550461"),                                 # type length 2
    bytes.fromhex("d90101015504" "61"),                              # IL flag set
    bytes.fromhex("c1010000000255" "0461"),                          # long form, short payload
    bytes.fromhex("d10102550161"),                                   # prefix 01 http://www.
    bytes.fromhex("d10109550068747470733a2f2f"),                     # code 0 but "https://"
    bytes.fromhex("d101035504c080"),                                 # bad UTF-8
    bytes.fromhex("d1010055"),                                       # empty payload
], ids=lambda m: m.hex()[:20] or "empty")
def test_parse_uri_record_rejects(msg):
    with pytest.raises(fw.NDEFError):
        fw.parse_uri_record(msg)


# ---- TLV ----

@pytest.mark.parametrize("n", [0, 1, 254, 255, 600, 0xFFFE])
def test_tlv_forms(n):
    msg = bytes(range(256)) * (n // 256) + bytes(n % 256)
    t = fw.tlv(msg)
    if n <= 254:
        assert t[:2] == bytes([0x03, n]) and len(t) == n + 3
    else:
        assert t[:4] == bytes([0x03, 0xFF, n >> 8, n & 0xFF]) and len(t) == n + 5
    assert t[-1] == 0xFE
    assert fw.parse_tlv(t) == msg
    assert fw.parse_tlv(t + bytes(40)) == msg        # tag memory after the terminator


def test_tlv_too_long():
    with pytest.raises(fw.NDEFError):
        fw.tlv(bytes(0xFFFF))


@pytest.mark.parametrize("data", [
    b"", b"\x03", b"\x00\x00\xfe", b"\x01\x00\xfe", b"\x03\x02\x00", b"\x03\x02\x00\x00",
    b"\x03\x02\x00\x00\x00", b"\x03\xff\x00", b"\x03\xff\x00\x01\x00\xfe",
    b"\x03\xff\x00\xfe" + bytes(254) + b"\xfe", b"\x03\xff\xff\xff" + bytes(70000),
], ids=lambda d: d[:6].hex() or "empty")
def test_parse_tlv_rejects(data):
    with pytest.raises(fw.NDEFError):
        fw.parse_tlv(data)


def test_600_char_url_uses_three_byte_length():
    url = "https://" + HOST + "/t/" + "A" * (600 - len(HOST) - 11)
    assert len(url) == 600
    rec = fw.uri_record(url)
    assert rec[0] == 0xC1
    t = fw.tlv(rec)
    assert t[:4] == bytes([0x03, 0xFF]) + len(rec).to_bytes(2, "big")
    assert fw.parse_uri_record(fw.parse_tlv(t)) == url
    assert rec == ndeflib_record(url)
    assert fw.fits(t) and len(t) == 600 - 8 + 1 + 7 + 5


def test_fits_boundary():
    assert fw.USER_MEMORY_1K == 888
    assert fw.fits(bytes(888)) and not fw.fits(bytes(889))
    assert fw.fits(bytes(100), capacity=100) and not fw.fits(bytes(101), capacity=100)


# ---- the tap URL ----

def tap(token_len, cred_len):
    token = bytes((i * 7) & 0xFF for i in range(token_len))
    cred = bytes((i * 13 + 5) & 0xFF for i in range(cred_len))
    return token, cred


def test_tap_url_and_tlv_realistic_size():
    token, cred = tap(135, 280)
    url = fw.tap_url(HOST, token, cred)
    assert url.startswith("https://" + HOST + "/t/")
    assert fw.b64url_decode(url.rsplit("/", 1)[1]) == token + cred
    t = fw.tlv(fw.uri_record(url))
    assert fw.fits(t) and 550 <= len(t) <= 600          # "about 560" in docs/protocol.md
    assert fw.parse_uri_record(fw.parse_tlv(t)) == url


@pytest.mark.parametrize("sizes", [(0, 0), (1, 0), (10, 20), (100, 80), (120, 160), (135, 280),
                                   (135, 500)])
def test_tap_tlv_into_matches_composition(sizes):
    token, cred = tap(*sizes)
    ref = fw.tlv(fw.uri_record(fw.tap_url(HOST, token, cred)))
    buf = bytearray(b"\xaa" * 1000)
    n = fw.tap_tlv_into(buf, HOST.encode(), token, cred)
    assert bytes(buf[:n]) == ref and buf[n] == 0xAA
    n2 = fw.tap_tlv_into(memoryview(bytearray(len(ref))), HOST.encode(), token, cred)
    assert n2 == len(ref)
    with pytest.raises(fw.NDEFError):
        fw.tap_tlv_into(bytearray(len(ref) - 1), HOST.encode(), token, cred)


# ---- MicroPython ----

def test_ndef_under_micropython(upy):
    token, cred = tap(135, 280)
    ref = fw.tlv(fw.uri_record(fw.tap_url(HOST, token, cred)))
    script = """
import binascii, micropython
from xinka import ndef
token = binascii.unhexlify(%r)
cred = binascii.unhexlify(%r)
host = %r
buf = bytearray(ndef.USER_MEMORY_1K)
micropython.heap_lock()          # tap time: no allocation allowed
try:
    n = ndef.tap_tlv_into(buf, host, token, cred)
finally:
    micropython.heap_unlock()
t = ndef.tlv(ndef.uri_record(ndef.tap_url(host.decode(), token, cred)))
assert bytes(buf[:n]) == t and ndef.fits(t)
url = ndef.parse_uri_record(ndef.parse_tlv(t))
assert ndef.b64url_decode(url.split("/")[-1]) == token + cred
for bad in ("AB", "AA=", "A+A", "A"):
    try:
        ndef.b64url_decode(bad)
        raise AssertionError(bad)
    except ndef.NDEFError:
        pass
for bad in (b"\\xd1\\x01\\x03\\x55\\x04\\xc0\\x80", b"\\xd1\\x01\\x02\\x55\\x01\\x61"):
    try:
        ndef.parse_uri_record(bad)
        raise AssertionError(bad)
    except ndef.NDEFError:
        pass
print(binascii.hexlify(t).decode())
""" % (token.hex(), cred.hex(), HOST.encode())
    assert upy(script).stdout.strip() == ref.hex()
