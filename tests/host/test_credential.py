"""Badge credentials: issue, verify against the trust list, every refusal, the cache."""
import pytest

from host.wire import cbor, cose, keys
from host.wire.claims import CNF, EXP, ISS, NBF, STATUS, SUB, UEID
from host.wire.credential import Credential, CredentialCache, issue, ueid_from_mac
from host.wire.errors import (BadSignature, Expired, Malformed, NotYetValid, Oversized,
                              UnknownKey, UntrustedIssuer, WrongAlg)
from host.wire.sample import T2026, T2028, World, secret
from host.wire.trust import Agency, TrustList, build_trust_list

W = World(n_agencies=2, n_badges=2)
NOW = W.now
TL = TrustList.load(W.trust_list, W.authority, NOW)
BADGE = W.badges[0]
A0, A1 = "A330100", "A330101"


def claims_of(data):
    return cbor.decode(cose.parse_sign1(data, 512).payload_bytes, 512)


def signed(over=None, key=W.agency_keys[A0], drop=(), protected=cose.PROTECTED_ES256):
    c = {k: v for k, v in claims_of(BADGE.credential).items() if k not in drop}
    c.update(over or {})
    return cose.sign1(key, cbor.encode(c), protected)


def test_issue_and_verify():
    cred = Credential.verify(BADGE.credential, TL, NOW)
    assert cred.verified
    assert (cred.iss, cred.sub, cred.status_idx) == (A0, "W-0000000", 0)
    assert cred.status_uri == "https://v.example.cn/sl/A330100"
    assert (cred.nbf, cred.exp, cred.iat) == (T2026, T2028, T2026)
    assert cred.badge_kid == keys.kid(BADGE.key)
    assert keys.point(cred.badge_public_key) == keys.point(BADGE.key)
    assert cred.issuer_kid == keys.kid(W.agency_keys[A0])
    assert cred.ueid == bytes.fromhex("02A4CF12000000") and cred.serial == "A4CF12000000"
    assert cred.raw == BADGE.credential
    assert 250 <= len(BADGE.credential) <= 300       # the spec's ~280 bytes


def test_wire_shape():
    assert list(claims_of(BADGE.credential)) == [1, 2, 4, 5, 6, 8, 256, 65535]
    assert cose.parse_sign1(BADGE.credential, 512).protected_bytes == b"\xa1\x01\x26"


BAD = {
    "unknown agency key": (lambda: signed(key=secret("rogue")), UnknownKey),
    "issuer not in trust list": (lambda: signed({ISS: "A999999"}), UntrustedIssuer),
    "issuer not in list, unknown key": (lambda: signed({ISS: "A9"}, key=secret("r")),
                                        UntrustedIssuer),
    "key of another agency": (lambda: signed(key=W.agency_keys[A1]), UntrustedIssuer),
    "expired": (lambda: signed({EXP: NOW - 301}), Expired),
    "not yet valid": (lambda: signed({NBF: NOW + 301}), NotYetValid),
    "extra claim": (lambda: signed({3: "aud"}), Malformed),
    "no cnf": (lambda: signed(drop=(CNF,)), Malformed),
    "no status": (lambda: signed(drop=(STATUS,)), Malformed),
    "sub as int": (lambda: signed({SUB: 4711}), Malformed),
    "exp as bool": (lambda: signed({EXP: True}), Malformed),
    "ueid 6 bytes": (lambda: signed({UEID: b"\x02" * 6}), Malformed),
    "ueid not type 2": (lambda: signed({UEID: b"\x01" * 7}), Malformed),
    "cnf extra key": (lambda: signed({CNF: {1: keys.cose_key(BADGE.key), 3: b""}}),
                      Malformed),
    "cnf key kid mismatch": (lambda: signed(
        {CNF: {1: {**keys.cose_key(BADGE.key), 2: b"\0" * 8}}}), Malformed),
    "status extra key": (lambda: signed(
        {STATUS: {"status_list": {"idx": 1, "uri": "u"}, "x": 1}}), Malformed),
    "status idx negative": (lambda: signed(
        {STATUS: {"status_list": {"idx": -1, "uri": "u"}}}), Malformed),
    "status uri missing": (lambda: signed({STATUS: {"status_list": {"idx": 1}}}), Malformed),
    "protected with typ": (lambda: signed(protected=cose.protected_header("x")), Malformed),
    "alg ES512": (lambda: signed(protected=cbor.encode({1: -36})), WrongAlg),
    "tampered": (lambda: BADGE.credential[:-1] + bytes((BADGE.credential[-1] ^ 1,)),
                 BadSignature),
    "oversized": (lambda: signed({SUB: "x" * 300}), Oversized),
    "a tap token": (lambda: BADGE.tap(), Malformed),
    "not bytes": (lambda: None, Malformed),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_verify_refuses(name):
    build, exc = BAD[name]
    with pytest.raises(exc):
        Credential.verify(build(), TL, NOW)


def test_leeway_edges():
    Credential.verify(signed({EXP: NOW - 300, NBF: NOW + 300}), TL, NOW)


def test_agency_validity_window():
    agencies = [Agency(A0, "n", [W.agency_keys[A0]], T2026, NOW - 301)]
    tl = TrustList.load(build_trust_list(W.authority, "X", agencies, 1, NOW, NOW + 10), W.authority,
                        NOW)
    with pytest.raises(Expired):
        Credential.verify(BADGE.credential, tl, NOW)
    agencies = [Agency(A0, "n", [W.agency_keys[A0]], NOW + 301, T2028)]
    tl = TrustList.load(build_trust_list(W.authority, "X", agencies, 1, NOW, NOW + 10), W.authority,
                        NOW)
    with pytest.raises(NotYetValid):
        Credential.verify(BADGE.credential, tl, NOW)


def test_parse_is_unverified_and_check_verifies():
    cred = Credential.parse(BADGE.credential)
    assert not cred.verified
    assert cred.check(TL, NOW).verified
    forged = Credential.parse(signed(key=secret("rogue")))
    with pytest.raises(UnknownKey):
        forged.check(TL, NOW)


def test_cache_rechecks_trust_and_time():
    cache = CredentialCache(maxsize=2)
    a = cache.verify(BADGE.credential, TL, NOW)
    assert cache.verify(BADGE.credential, TL, NOW) is a
    with pytest.raises(Expired):
        cache.verify(BADGE.credential, TL, T2028 + 301)
    only_a1 = TrustList.load(build_trust_list(
        W.authority, "X", [Agency(A1, "n", [W.agency_keys[A1]], T2026, T2028)], 2, NOW,
        NOW + 10), W.authority, NOW)
    with pytest.raises(UntrustedIssuer):
        cache.verify(BADGE.credential, only_a1, NOW)
    cache.verify(W.badges[1].credential, TL, NOW)
    cache.verify(signed({SUB: "other"}), TL, NOW)
    assert len(cache) == 2
    with pytest.raises(BadSignature):
        cache.verify(BADGE.credential[:-1] + b"\0", TL, NOW)


def test_issue_refuses_a_bad_ueid():
    with pytest.raises(ValueError):
        issue(W.agency_keys[A0], A0, "W", BADGE.key.public_key(), b"\x02" * 6, 1, "u", 0, 0, 1)
    assert ueid_from_mac(bytes(6)) == b"\x02" + bytes(6)
