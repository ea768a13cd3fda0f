"""The agency trust list: build, load, lookups, and every refusal."""
import pytest

from host.wire import cbor, cose, keys
from host.wire.claims import AGENCIES, EXP, IAT, ISS, SEQ
from host.wire.errors import (BadSignature, Expired, Malformed, NotYetValid, Oversized,
                              UnknownKey)
from host.wire.sample import T2026, T2027, T2028, T2029, World, secret
from host.wire.trust import TYP, Agency, TrustList, build_trust_list

W = World(n_agencies=3, n_badges=0)
AUTH = W.authority.public_key()
NOW = W.now


def test_load_and_lookups():
    tl = TrustList.load(W.trust_list, AUTH, NOW)
    assert tl.iss == "CN-ZJ-HZ-COMMERCE" and tl.seq == 1 and len(tl) == 3
    assert tl.authority_kid == keys.kid(W.authority)
    a = tl.agency("A330101")
    assert a.name == "杭州安心家政1" and (a.nbf, a.exp) == (T2026, T2029)
    k = keys.kid(W.agency_keys["A330101"])
    agency, key = tl.agency_key(k)
    assert agency is a and keys.point(key) == keys.point(W.agency_keys["A330101"])
    assert tl.agency("nope") is None and tl.agency_key(b"\0" * 8) is None


def test_wire_shape():
    msg = cose.parse_sign1(W.trust_list, 65536)
    assert msg.protected == {1: -7, 16: TYP}
    assert msg.kid == keys.kid(W.authority)
    claims = cbor.decode(msg.payload_bytes, 65536)
    assert list(claims) == [ISS, EXP, IAT, AGENCIES, SEQ]   # -65545 (3A00010008) < -65546
    assert list(claims[AGENCIES][0]) == [1, 2, 3, 4, 5]


def test_rotation_two_keys_per_agency():
    old, new = secret("rot old"), secret("rot new")
    data = build_trust_list(W.authority, "X", [Agency("A1", "n", [old, new], 0, T2029)], 2,
                            T2027, T2028)
    tl = TrustList.load(data, AUTH, NOW)
    assert tl.agency_key(keys.kid(old))[0] is tl.agency_key(keys.kid(new))[0]


def _signed(claims, key=W.authority, typ=TYP):
    return cose.sign1(key, cbor.encode(claims), cose.protected_header(typ))


def _agency_entry(over=None):
    return {1: "A1", 2: "n", 3: [keys.cose_key(secret("t a1"))], 4: T2026, 5: T2029,
            **(over or {})}


def _claims(over=None):
    return {ISS: "X", EXP: T2028, IAT: T2027, SEQ: 1, AGENCIES: [_agency_entry()],
            **(over or {})}


def _agency(over):
    return _claims({AGENCIES: [_agency_entry(over)]})


BAD = {
    "no typ": (lambda: cose.sign1(W.authority, cbor.encode(_claims())), Malformed),
    "status list typ": (lambda: _signed(_claims(), typ="application/statuslist+cwt"),
                        Malformed),
    "signed by an agency": (lambda: _signed(_claims(), key=W.agency_keys["A330100"]),
                            UnknownKey),
    "expired": (lambda: _signed(_claims({EXP: NOW - 301})), Expired),
    "issued in the future": (lambda: _signed(_claims({IAT: NOW + 301})), NotYetValid),
    "missing seq": (lambda: _signed({k: v for k, v in _claims().items() if k != SEQ}),
                    Malformed),
    "extra claim": (lambda: _signed(_claims({99: 1})), Malformed),
    "iss not text": (lambda: _signed(_claims({ISS: b"X"})), Malformed),
    "negative seq": (lambda: _signed(_claims({SEQ: -1})), Malformed),
    "agencies not a list": (lambda: _signed(_claims({AGENCIES: {}})), Malformed),
    "agency with no keys": (lambda: _signed(_agency({3: []})), Malformed),
    "agency extra key": (lambda: _signed(_agency({6: 0})), Malformed),
    "agency bad cose key": (lambda: _signed(_agency({3: [{1: 2}]})), Malformed),
    "agency nbf text": (lambda: _signed(_agency({4: "2026"})), Malformed),
    "agency listed twice": (lambda: _signed(_claims({AGENCIES: _claims()[AGENCIES] * 2})),
                            Malformed),
    "claims not a map": (lambda: _signed([1]), Malformed),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_load_refuses(name):
    build, exc = BAD[name]
    with pytest.raises(exc):
        TrustList.load(build(), AUTH, NOW)


def test_leeway_edges():
    data = _signed(_claims({EXP: NOW - 300, IAT: NOW + 300}))
    TrustList.load(data, AUTH, NOW)


def test_tampered_and_wrong_anchor():
    data = bytearray(W.trust_list)
    data[-1] ^= 1
    with pytest.raises(BadSignature):
        TrustList.load(bytes(data), AUTH, NOW)
    with pytest.raises(UnknownKey):
        TrustList.load(W.trust_list, secret("not the authority").public_key(), NOW)


def test_oversized():
    with pytest.raises(Oversized):
        TrustList.load(b"\0" * (64 * 1024 + 1), AUTH, NOW)


def test_agency_window():
    a = Agency("A", "n", [secret("w")], 1000, 2000)
    a.check_time(700)
    a.check_time(2300)
    with pytest.raises(NotYetValid):
        a.check_time(699)
    with pytest.raises(Expired):
        a.check_time(2301)
