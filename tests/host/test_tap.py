"""Tap tokens: build, verify against a credential, every refusal, the claims parser."""
import hashlib

import cbor2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.wire import cbor, cose, keys, tap
from host.wire.claims import AUD, CTR, IAT, NONCE, PUR, SCP
from host.wire.credential import Credential, CredentialCache
from host.wire.errors import (BadSignature, Expired, Malformed, Oversized, UnknownKey,
                              WireError, WrongAlg, WrongPurpose)
from host.wire.sample import T2028, World
from host.wire.tap import build_tap, split_sequence, verify_tap
from host.wire.trust import TrustList

W = World(n_agencies=2, n_badges=2)
NOW = W.now
TL = TrustList.load(W.trust_list, W.authority, NOW)
BADGE, OTHER = W.badges
CRED = Credential.verify(BADGE.credential, TL, NOW)
NONCE16 = bytes(range(16))
CHECKIN = dict(terminal_id="T-A330100-01", terminal_time=NOW, nonce=NONCE16)


def test_status_token():
    token = build_tap(BADGE.key, "status", 42)
    t = verify_tap(token, BADGE.credential, TL, NOW)
    assert (t.purpose, t.counter, t.scope, t.nonce, t.terminal_id, t.terminal_time) == \
        ("status", 42, None, None, None, None)
    assert t.badge_kid == keys.kid(BADGE.key) and t.credential.sub == "W-0000000"
    assert t.token == token and t.token_hash == hashlib.sha256(token).digest()
    assert cbor2.loads(cose.parse_sign1(token, 256).payload_bytes) == {CTR: 42, PUR: 1}
    assert len(token) == 98      # 2 + protected 4 + kid 11 + payload 1 + 14 + signature 66


def test_consent_and_checkin_tokens():
    t = verify_tap(build_tap(BADGE.key, "consent", 7, scope=tap.SCOPE_HEALTH | 1),
                   CRED, TL, NOW)
    assert (t.purpose, t.scope) == ("consent", 3)
    token = build_tap(BADGE.key, "checkin", 8, **CHECKIN)
    t = verify_tap(token, CRED, TL, NOW, purposes=("checkin",))
    assert (t.terminal_id, t.terminal_time, t.nonce) == ("T-A330100-01", NOW, NONCE16)
    assert 118 <= len(token) <= 160
    assert list(cbor2.loads(cose.parse_sign1(token, 256).payload_bytes)) == \
        [AUD, IAT, NONCE, CTR, PUR]


def test_credential_as_bytes_object_or_cache():
    token = build_tap(BADGE.key, "status", 1)
    cache = CredentialCache()
    for cred in (BADGE.credential, CRED, Credential.parse(BADGE.credential)):
        assert verify_tap(token, cred, TL, NOW, cache=cache).counter == 1
    assert verify_tap(token, BADGE.credential, TL, NOW, cache=cache).credential is \
        cache.verify(BADGE.credential, TL, NOW)


def test_purposes():
    token = build_tap(BADGE.key, "status", 3)
    for ok in ("status", ("status", "consent"), {1}, ["checkin", "status"]):
        verify_tap(token, CRED, TL, NOW, purposes=ok)
    for wrong in ("checkin", ("checkin",), {2, 3}, ()):
        with pytest.raises(WrongPurpose):
            verify_tap(token, CRED, TL, NOW, purposes=wrong)


def claims_token(claims, key=BADGE.key, protected=cose.PROTECTED_ES256):
    payload = claims if isinstance(claims, bytes) else cbor2.dumps(claims, canonical=True)
    return cose.sign1(key, payload, protected, kid=keys.kid(BADGE.key))


CK = {AUD: "T-1", IAT: NOW, NONCE: NONCE16, CTR: 5, PUR: 3}
BAD = {
    "token of another badge": (lambda: build_tap(OTHER.key, "status", 1), UnknownKey),
    "signed by another key, right kid": (lambda: claims_token({CTR: 1, PUR: 1}, OTHER.key),
                                         BadSignature),
    "checkin without nonce": (lambda: claims_token({**CK, NONCE: None}), Malformed),
    "checkin without aud": (lambda: claims_token({k: v for k, v in CK.items() if k != AUD}),
                            Malformed),
    "checkin without iat": (lambda: claims_token({k: v for k, v in CK.items() if k != IAT}),
                            Malformed),
    "checkin without nonce claim": (lambda: claims_token(
        {k: v for k, v in CK.items() if k != NONCE}), Malformed),
    "checkin with scope": (lambda: claims_token({**CK, SCP: 1}), Malformed),
    "checkin nonce 15 bytes": (lambda: claims_token({**CK, NONCE: NONCE16[:15]}), Malformed),
    "checkin aud as bytes": (lambda: claims_token({**CK, AUD: b"T-1"}), Malformed),
    "status with nonce": (lambda: claims_token({NONCE: NONCE16, CTR: 1, PUR: 1}), Malformed),
    "status with iat": (lambda: claims_token({IAT: NOW, CTR: 1, PUR: 1}), Malformed),
    "status with scope": (lambda: claims_token({CTR: 1, PUR: 1, SCP: 1}), Malformed),
    "consent without scope": (lambda: claims_token({CTR: 1, PUR: 2}), Malformed),
    "ctr 0": (lambda: claims_token({CTR: 0, PUR: 1}), Malformed),
    "ctr negative": (lambda: claims_token({CTR: -1, PUR: 1}), Malformed),
    "no ctr": (lambda: claims_token({PUR: 1, SCP: 1}), Malformed),
    "no pur": (lambda: claims_token({CTR: 1, SCP: 1}), Malformed),
    "pur 4": (lambda: claims_token({CTR: 1, PUR: 4}), Malformed),
    "pur 0": (lambda: claims_token({CTR: 1, PUR: 0}), Malformed),
    "unknown claim": (lambda: claims_token({CTR: 1, PUR: 1, -65540: 1}), Malformed),
    "exp claim": (lambda: claims_token({4: NOW, CTR: 1, PUR: 1}), Malformed),
    "ctr long form": (lambda: claims_token(bytes.fromhex("a2 3a00010000 1801 3a00010001 01")),
                      Malformed),
    "claims unsorted": (lambda: claims_token(bytes.fromhex("a2 3a00010001 01 3a00010000 01")),
                        Malformed),
    "claims duplicated": (lambda: claims_token(
        bytes.fromhex("a3 3a00010000 01 3a00010000 02 3a00010001 01")), Malformed),
    "claims indefinite": (lambda: claims_token(
        bytes.fromhex("bf 3a00010000 01 3a00010001 01 ff")), Malformed),
    "claims trailing": (lambda: claims_token(bytes.fromhex("a2 3a00010000 01 3a00010001 01 00")),
                        Malformed),
    "claims a list": (lambda: claims_token(bytes.fromhex("82 01 01")), Malformed),
    "protected with typ": (lambda: claims_token({CTR: 1, PUR: 1},
                                                protected=cose.protected_header("x")), Malformed),
    "wrong alg": (lambda: claims_token({CTR: 1, PUR: 1}, protected=cbor.encode({1: -35})),
                  WrongAlg),
    "oversized": (lambda: claims_token({**CK, AUD: "x" * 200}), Oversized),
    "a credential": (lambda: BADGE.credential, Oversized),
    "credential-like claims": (lambda: cose.sign1(BADGE.key, cbor.encode({1: "x"})),
                               Malformed),
    "garbage": (lambda: b"\xff\x00", Malformed),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_verify_tap_refuses(name):
    build, exc = BAD[name]
    with pytest.raises(exc):
        verify_tap(build(), CRED, TL, NOW)


def test_credential_problems_come_first():
    token = build_tap(BADGE.key, "status", 1)
    with pytest.raises(Expired):
        verify_tap(token, CRED, TL, T2028 + 301)
    with pytest.raises(Malformed):
        verify_tap(token, b"", TL, NOW)
    with pytest.raises(UnknownKey):   # a credential for another badge
        verify_tap(token, OTHER.credential, TL, NOW)


def test_build_tap_refuses_inconsistent_arguments():
    for kw in (dict(purpose="status", counter=0), dict(purpose="nope", counter=1),
               dict(purpose="checkin", counter=1),
               dict(purpose="status", counter=1, nonce=NONCE16),
               dict(purpose="consent", counter=1),
               dict(purpose="status", counter=1, scope=1),
               dict(purpose="checkin", counter=1, **{**CHECKIN, "nonce": b"1"})):
        with pytest.raises(ValueError):
            build_tap(BADGE.key, **kw)


def test_split_sequence():
    token = build_tap(BADGE.key, "status", 1)
    assert split_sequence(token + BADGE.credential) == (token, BADGE.credential)
    for bad in (token, token + BADGE.credential + b"\x00", token + BADGE.credential + token,
                b"", b"\x9f" + token[1:], token + b"\xff"):
        with pytest.raises(Malformed):
            split_sequence(bad)
    with pytest.raises(Oversized):
        split_sequence(token * 8)
    with pytest.raises(Malformed):   # an item in non-deterministic encoding
        split_sequence(token + cbor2.dumps(cbor2.CBORTag(18, [1.5])))


def test_challenge():
    data = tap.encode_challenge("T-1", NOW, NONCE16)
    assert cbor2.loads(data) == {3: "T-1", 6: NOW, 10: NONCE16}
    assert tap.parse_challenge(data) == ("T-1", NOW, NONCE16)
    for bad in ({3: "T-1", 6: NOW}, {3: "T-1", 6: NOW, 10: b"x"}, {3: 1, 6: NOW, 10: NONCE16},
                {3: "T-1", 6: -1, 10: NONCE16}, {3: "T", 6: 1, 10: NONCE16, 11: 0}, [1]):
        with pytest.raises(Malformed):
            tap.parse_challenge(cbor2.dumps(bad, canonical=True))


# -- the hand-written claims parser against the reference (cbor.decode + the CDDL) ---------

def reference_claims(payload):
    c = cbor.decode(payload, 256)
    if type(c) is not dict:
        raise Malformed()
    types = {AUD: str, IAT: int, NONCE: bytes, CTR: int, PUR: int, SCP: int}
    for k, v in c.items():
        if k not in types or type(k) is not int or type(v) is not types[k]:
            raise Malformed()
        if types[k] is int and v < 0:
            raise Malformed()
    aud, iat, nonce, ctr, pur, scp = (c.get(k) for k in (AUD, IAT, NONCE, CTR, PUR, SCP))
    if ctr is None or pur is None or ctr < 1 or pur not in (1, 2, 3):
        raise Malformed()
    if pur == 3:
        if None in (aud, iat, nonce) or scp is not None or len(nonce) != 16:
            raise Malformed()
    elif (aud, iat, nonce) != (None, None, None) or (scp is not None) != (pur == 2):
        raise Malformed()
    return [aud, iat, nonce, ctr, pur, scp]


def outcome(f, payload):
    try:
        return f(payload)
    except WireError as e:
        return type(e)


KEYS = st.sampled_from([AUD, IAT, NONCE, CTR, PUR, SCP, 1, -65540, "3"])
VALUES = st.one_of(st.integers(-3, 2**64 + 5), st.sampled_from([1, 2, 3, 23, 24, 255, 256]),
                   st.binary(max_size=20), st.text(max_size=30), st.booleans(), st.none())
CLAIMS = st.dictionaries(KEYS, VALUES, max_size=7)
VALID = st.builds(lambda pur, ctr, scp, aud, iat, nonce: {
    CTR: ctr, PUR: pur, **({SCP: scp} if pur == 2 else {}),
    **({AUD: aud, IAT: iat, NONCE: nonce} if pur == 3 else {})},
    st.sampled_from([1, 2, 3]), st.integers(0, 2**64 - 1), st.integers(0, 2**32),
    st.text(max_size=40), st.integers(0, 2**40), st.binary(min_size=15, max_size=17))


@st.composite
def payloads(draw):
    claims = draw(st.one_of(VALID, CLAIMS))
    data = bytearray(cbor2.dumps(claims, canonical=draw(st.booleans())))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        i = draw(st.integers(0, len(data)))
        if op == "flip" and i < len(data):
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = bytes([draw(st.integers(0, 255))])
        elif op == "delete":
            del data[i:i + 1]
        else:
            del data[i:]
    return bytes(data)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads())
def test_claims_parser_matches_the_reference(payload):
    assert outcome(tap._claims, payload) == outcome(reference_claims, payload)
