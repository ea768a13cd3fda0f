"""Status lists: the 2-bit layout, signed tokens, the decompression bound."""
import zlib

import pytest

from host.wire import cbor, cose
from host.wire.claims import EXP, IAT, SEQ, STATUS_LIST, SUB, TTL
from host.wire.errors import (BadSignature, Expired, Malformed, NotYetValid, Oversized,
                              UnknownKey)
from host.wire.sample import World, secret
from host.wire.status import (REVOKED, SUSPENDED, TYP, VALID, StatusList, StatusListToken,
                              build_status_list)
from host.wire.trust import TrustList

W = World(n_agencies=2, n_badges=8)
NOW = W.now
TL = TrustList.load(W.trust_list, W.authority, NOW)
AKEY = W.agency_keys["A330100"]


def test_bit_layout_of_the_spec():
    lst = StatusList(8)
    lst.set(0, REVOKED)      # byte 0, bits 0-1
    lst.set(1, SUSPENDED)    # byte 0, bits 2-3
    lst.set(3, 3)            # byte 0, bits 6-7
    lst.set(6, REVOKED)      # byte 1, bits 4-5
    assert lst.to_bytes() == bytes([0b11_00_10_01, 0b00_01_00_00])
    assert [lst.get(i) for i in range(8)] == [1, 2, 0, 1, 0, 0, 1, 0]   # 3 reads as revoked
    lst.set(3, VALID)
    assert lst.to_bytes()[0] == 0b00_00_10_01
    assert len(StatusList(5)) == 8 and StatusList(b"\x01").get(0) == REVOKED


def test_get_outside_the_list_and_bad_set():
    lst = StatusList(4)
    for i in (4, -1, "1", None, True):
        with pytest.raises(Malformed):
            lst.get(i)
    with pytest.raises(ValueError):
        lst.set(0, 4)
    with pytest.raises(IndexError):
        lst.set(4, 1)


def test_build_and_load_signed_by_agency():
    data = W.status_list("A330100", revoked=[2, 5], suspended=[3], seq=7)
    tok = StatusListToken.load(data, TL, NOW)
    assert (tok.uri, tok.seq, tok.ttl) == ("https://v.example.cn/sl/A330100", 7, 3600)
    assert tok.signer.id == "A330100"
    assert [tok.get(i) for i in range(8)] == [0, 0, 1, 2, 0, 1, 0, 0]
    assert tok.age(NOW) == 3600 and tok.fresh(NOW) and not tok.fresh(NOW + 1)
    msg = cose.parse_sign1(data, 1 << 20)
    assert msg.protected == {1: -7, 16: TYP}
    assert list(cbor.decode(msg.payload_bytes, 1 << 20)) == [SUB, EXP, IAT, STATUS_LIST, TTL,
                                                             SEQ]
    assert StatusListToken.load(data, AKEY.public_key(), NOW).signer is None


def test_signed_by_the_authority():
    data = build_status_list(W.authority, "u", StatusList(4), 1, NOW, NOW + 60, 60)
    assert StatusListToken.load(data, TL, NOW).signer is None


def test_large_list_is_small_compressed():
    lst = StatusList(1_000_000)
    for i in range(0, 1_000_000, 997):
        lst.set(i, REVOKED)
    data = build_status_list(AKEY, "u", lst, 1, NOW, NOW + 60, 60)
    assert len(data) < 20_000
    tok = StatusListToken.load(data, TL, NOW)
    assert tok.get(997 * 3) == REVOKED and tok.get(1) == VALID


EMPTY_LIST = zlib.compress(b"\x00" * 4)


def _signed(over=None, lst=EMPTY_LIST, key=AKEY, typ=TYP, drop=()):
    c = {SUB: "u", EXP: NOW + 60, IAT: NOW, STATUS_LIST: {"bits": 2, "lst": lst}, TTL: 60,
         SEQ: 1}
    c.update(over or {})
    for k in drop:
        del c[k]
    return cose.sign1(key, cbor.encode(c), cose.protected_header(typ) if typ else
                      cose.PROTECTED_ES256)


BAD = {
    "zip bomb": (lambda: _signed(lst=zlib.compress(b"\x00" * (1 << 20 + 1), 9)), Oversized),
    "not zlib": (lambda: _signed(lst=b"\x00\x01\x02"), Malformed),
    "truncated zlib": (lambda: _signed(lst=zlib.compress(b"\x55" * 100)[:-3]), Malformed),
    "bytes after zlib": (lambda: _signed(lst=zlib.compress(b"\x55") + b"\x00"), Malformed),
    "raw deflate": (lambda: _signed(lst=zlib.compress(b"\x55")[2:-4]), Malformed),
    "bits 1": (lambda: _signed({STATUS_LIST: {"bits": 1, "lst": zlib.compress(b"")}}),
               Malformed),
    "status_list extra key": (lambda: _signed(
        {STATUS_LIST: {"bits": 2, "lst": zlib.compress(b""), "x": 1}}), Malformed),
    "no seq": (lambda: _signed(drop=(SEQ,)), Malformed),
    "no ttl": (lambda: _signed(drop=(TTL,)), Malformed),
    "sub bytes": (lambda: _signed({SUB: b"u"}), Malformed),
    "no typ": (lambda: _signed(typ=None), Malformed),
    "trust list typ": (lambda: _signed(typ="application/xk-trustlist+cwt"), Malformed),
    "unknown signer": (lambda: _signed(key=secret("rogue")), UnknownKey),
    "expired": (lambda: _signed({EXP: NOW - 301}), Expired),
    "issued in the future": (lambda: _signed({IAT: NOW + 301}), NotYetValid),
    "tampered": (lambda: _signed()[:-1] + b"\x00", BadSignature),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_load_refuses(name):
    build, exc = BAD[name]
    with pytest.raises(exc):
        StatusListToken.load(build(), TL, NOW, max_bytes=1 << 20)


def test_stale_list_loads_without_a_time():
    tok = StatusListToken.load(_signed({EXP: NOW - 10_000}), TL, None)
    assert tok.exp == NOW - 10_000


def test_public_key_of_another_signer():
    with pytest.raises(UnknownKey):
        StatusListToken.load(_signed(), secret("other").public_key(), NOW)


def test_oversized_token():
    with pytest.raises(Oversized):
        StatusListToken.load(b"\x00" * (8 * 1024 * 1024 + 1), TL, NOW)
