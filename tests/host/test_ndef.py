"""The tap URL, the NDEF URI record and the Type 2 tag TLV."""
import base64

import pytest

from host.wire import ndef
from host.wire.errors import Malformed, Oversized
from host.wire.sample import World

W = World(n_badges=1)
BADGE = W.badges[0]
TOKEN = BADGE.tap("checkin", terminal_id="T-A330100-01", terminal_time=W.now, nonce=bytes(16))
HOST = "verify.xk-jiazheng.gov.cn"      # 25 characters, the spec's "24-byte host" give or take


def test_url_round_trip():
    url = ndef.tap_url(HOST, TOKEN, BADGE.credential)
    assert url.startswith(f"https://{HOST}/t/") and "=" not in url
    b64 = url.rsplit("/", 1)[1]
    assert base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)) == TOKEN + BADGE.credential
    assert ndef.parse_tap_url(url) == (TOKEN, BADGE.credential)
    assert ndef.decode_tap_b64(b64) == (TOKEN, BADGE.credential)


def test_url_refusals():
    url = ndef.tap_url(HOST, TOKEN, BADGE.credential)
    b64 = url.rsplit("/", 1)[1]
    for bad in ("http" + url[5:], url.replace("/t/", "/x/"), "https:///t/" + b64,
                url + "=", url[:-1] + "+", url + "A", url + "AA", url[:-2], "https://h/t/",
                url.replace("/t/", "/t//"), None, url.encode()):
        with pytest.raises(Malformed):
            ndef.parse_tap_url(bad)
    # non-canonical trailing bits: the last character carries bits the decoder drops
    last = ndef.b64url(b"\x00")         # "AA"
    with pytest.raises(Malformed):
        ndef.decode_tap_b64(last[:-1] + "B")
    with pytest.raises(Oversized):
        ndef.decode_tap_b64("A" * 1100)


def test_record_and_tlv_short_and_long():
    for url in ("https://h/t/x", "https://" + "h" * 300):
        rec = ndef.uri_record(url)
        assert rec[0] == (0xD1 if len(url) < 250 else 0xC1) and rec[1] == 1
        assert ndef.parse_uri_record(rec) == url
        t = ndef.tlv(rec)
        assert t[0] == 3 and t[-1] == 0xFE
        assert t[1] == (len(rec) if len(rec) < 255 else 0xFF)
        assert ndef.parse_tlv(t + b"\x00" * 10) == rec


def test_tag_fits_the_nt3h2111():
    data = ndef.tag_data(HOST, TOKEN, BADGE.credential)
    assert data[:2] == b"\x03\xff" and data[4:6] == b"\xc1\x01"
    assert 500 <= len(data) <= 888
    assert ndef.read_tag_url(data) == ndef.tap_url(HOST, TOKEN, BADGE.credential)
    assert ndef.parse_tap_url(ndef.read_tag_url(data)) == (TOKEN, BADGE.credential)


def test_tlv_skips_null_and_control_tlvs():
    rec = ndef.uri_record("https://h/t/x")
    mem = b"\x00\x00" + b"\x01\x03\xa0\x10\x44" + b"\x02\x03\x00\x00\x00" + ndef.tlv(rec)
    assert ndef.parse_tlv(mem) == rec


@pytest.mark.parametrize("mem, exc", [
    (b"", Malformed), (b"\xfe", Malformed), (b"\x03", Malformed), (b"\x03\xff\x00", Malformed),
    (b"\x03\x05\xd1\x01", Malformed), (b"\x01\x05\x00", Malformed),
    (b"\x03\xff\x04\x00" + b"\x00" * 1024, Oversized), ("03", Malformed),
])
def test_tlv_refusals(mem, exc):
    with pytest.raises(exc):
        ndef.parse_tlv(mem)


RECORD = ndef.uri_record("https://h/t/x")


@pytest.mark.parametrize("rec", [
    b"", RECORD[:2], RECORD[:-1], RECORD + b"\x00",
    bytes([0x91]) + RECORD[1:],            # MB without ME: a second record would follow
    bytes([0xF1]) + RECORD[1:],            # chunked
    bytes([0xD2]) + RECORD[1:],            # TNF 2 (media type)
    RECORD[:3] + b"T" + RECORD[4:],        # a text record
    RECORD[:4] + b"\x03" + RECORD[5:],     # http:// prefix
    RECORD[:5] + b"\xff" + RECORD[6:],     # not UTF-8
    b"\xd1\x01\x00\x55",                   # empty payload
])
def test_record_refusals(rec):
    with pytest.raises(Malformed):
        ndef.parse_uri_record(rec)


def test_record_with_id_field():
    rec = bytes([RECORD[0] | 0x08, 1, RECORD[2], 2]) + b"U" + b"id" + RECORD[4:]
    assert ndef.parse_uri_record(rec) == "https://h/t/x"


def test_record_oversized():
    with pytest.raises(Oversized):
        ndef.parse_uri_record(ndef.uri_record("https://" + "h" * 900))
