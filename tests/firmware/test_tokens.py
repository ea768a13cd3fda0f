"""firmware/lib/tokens.py and cose.py: claims bytes, COSE_Sign1 signing, challenge parsing.

Signatures are checked with `cryptography`, pycose (`cose`) and python-cwt as independent
COSE implementations; MicroPython must produce the same bytes as CPython.
"""
import hashlib

import cbor2
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils


from xinka import cbor, tokens  # noqa: E402
from xinka import cose as fwcose  # noqa: E402

KEY = ec.derive_private_key(0x1D5A3F0C4B2E6A9781F0C3D2B1A0958473625140F1E2D3C4B5A697887766554,
                            ec.SECP256R1())
PUB = KEY.public_key()
NUMS = PUB.public_numbers()
X, Y = NUMS.x.to_bytes(32, "big"), NUMS.y.to_bytes(32, "big")
KID = hashlib.sha256(b"\x04" + X + Y).digest()[:8]
NONCE = bytes.fromhex("00112233445566778899AABBCCDDEEFF")


def signer(digest):
    """The badge's signer contract, on `cryptography`: digest32 -> r || s."""
    assert len(digest) == 32
    der = KEY.sign(digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def fake_signer(digest):
    """Deterministic stand-in so CPython and MicroPython can be compared byte for byte."""
    return hashlib.sha256(digest).digest() + hashlib.sha256(digest + b"s").digest()


def verify(token):
    """Independent check: cbor2 for the shape, cryptography for the signature."""
    tag = cbor2.loads(token)
    assert isinstance(tag, cbor2.CBORTag) and tag.tag == 18
    protected, unprotected, payload, sig = tag.value
    assert cbor2.loads(protected) == {1: -7} and unprotected == {4: KID} and len(sig) == 64
    to_sign = cbor2.dumps(["Signature1", protected, b"", payload])
    der = utils.encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                     int.from_bytes(sig[32:], "big"))
    PUB.verify(der, to_sign, ec.ECDSA(hashes.SHA256()))
    return payload


# ---- claims ----

def test_status_claims():
    c = tokens.status_claims(42)
    assert c.hex() == "a2" "3a00010000" "182a" "3a00010001" "01"
    assert cbor2.loads(c) == {-65537: 42, -65538: 1}
    assert c == cbor.dumps({-65537: 42, -65538: 1})


def test_consent_claims():
    c = tokens.consent_claims(7, 1 | 4 | 32)
    assert cbor2.loads(c) == {-65537: 7, -65538: 2, -65539: 37}
    assert list(cbor2.loads(c)) == [-65537, -65538, -65539]
    assert c == cbor.dumps({-65537: 7, -65538: 2, -65539: 37})


def test_checkin_claims():
    c = tokens.checkin_claims(43, "T-A330100-01", 1798800000, NONCE)
    d = cbor2.loads(c)
    assert d == {3: "T-A330100-01", 6: 1798800000, 10: NONCE, -65537: 43, -65538: 3}
    assert list(d) == [3, 6, 10, -65537, -65538]
    assert c == cbor.dumps(d)
    assert len(c) == 52      # map 1, aud 14, iat 6, nonce 18, ctr 7, pur 6


def test_claims_types_match_cddl():
    for c, pur in ((tokens.status_claims(1), 1), (tokens.consent_claims(2**64 - 1, 0), 2),
                   (tokens.checkin_claims(5, "水" * 32, 2**64 - 1, bytearray(16)), 3)):
        d = cbor2.loads(c)
        assert d[-65538] == pur and type(d[-65537]) is int and d[-65537] >= 1
        assert set(d) <= {3, 6, 10, -65537, -65538, -65539}
        assert (-65539 in d) == (pur == 2) and (10 in d) == (pur == 3)
        if pur == 3:
            assert isinstance(d[3], str) and type(d[6]) is int and len(d[10]) == 16


@pytest.mark.parametrize("call", [
    lambda: tokens.status_claims(0), lambda: tokens.status_claims(-1),
    lambda: tokens.status_claims(True), lambda: tokens.status_claims(2**64),
    lambda: tokens.status_claims("1"), lambda: tokens.consent_claims(1, -1),
    lambda: tokens.consent_claims(1, None),
    lambda: tokens.checkin_claims(1, "T", 5, bytes(15)),
    lambda: tokens.checkin_claims(1, "T", 5, bytes(17)),
    lambda: tokens.checkin_claims(1, "T", 5, "0123456789abcdef"),
    lambda: tokens.checkin_claims(1, "", 5, NONCE),
    lambda: tokens.checkin_claims(1, "T" * 33, 5, NONCE),
    lambda: tokens.checkin_claims(1, b"T", 5, NONCE),
    lambda: tokens.checkin_claims(1, "T", -1, NONCE),
    lambda: tokens.checkin_claims(1, "T", 2**64, NONCE),
])
def test_claims_reject_bad_arguments(call):
    with pytest.raises(ValueError):
        call()


# ---- COSE_Sign1 ----

def test_sig_structure_matches_cbor2():
    for payload in (b"", b"x" * 23, b"y" * 24, b"z" * 300):
        assert fwcose.sig_structure(fwcose.PROTECTED_ES256, payload) == \
            cbor2.dumps(["Signature1", b"\xa1\x01\x26", b"", payload])


@pytest.mark.parametrize("claims", [
    tokens.status_claims(42), tokens.consent_claims(42, 63),
    tokens.checkin_claims(43, "T-A330100-01", 1798800000, NONCE)],
    ids=["status", "consent", "checkin"])
def test_token_verifies_with_cryptography(claims):
    token = tokens.tap_token(claims, KID, signer)
    assert verify(token) == claims
    # tag+array 2, protected 4, kid 11, signature 66 (docs/protocol.md byte budget)
    assert len(token) == 83 + len(cbor2.dumps(claims)) <= 256
    assert fwcose.parse_sign1(token) == (b"\xa1\x01\x26", KID, claims, token[-64:])
    forged = token[:-1] + bytes([token[-1] ^ 1])
    with pytest.raises(InvalidSignature):
        verify(forged)


def test_token_bytes_are_independent_construction():
    claims = tokens.status_claims(42)
    token = tokens.tap_token(claims, KID, fake_signer)
    digest = hashlib.sha256(cbor2.dumps(["Signature1", b"\xa1\x01\x26", b"", claims])).digest()
    expected = cbor2.dumps(cbor2.CBORTag(18, [b"\xa1\x01\x26", {4: KID}, claims,
                                              fake_signer(digest)]))
    assert token == expected


def test_token_verifies_with_pycose():
    from cose.keys import EC2Key
    from cose.messages import CoseMessage
    token = tokens.tap_token(tokens.checkin_claims(9, "T-1", 1798800000, NONCE), KID, signer)
    msg = CoseMessage.decode(token)
    msg.key = EC2Key(crv="P_256", x=X, y=Y)
    assert msg.verify_signature()
    assert msg.payload == tokens.checkin_claims(9, "T-1", 1798800000, NONCE)


def test_token_verifies_with_python_cwt():
    import cwt
    key = cwt.COSEKey.new({1: 2, 2: KID, 3: -7, -1: 1, -2: X, -3: Y})
    claims = tokens.consent_claims(3, 1)
    token = tokens.tap_token(claims, KID, signer)
    assert cwt.COSE.new().decode(token, key) == claims
    with pytest.raises(cwt.VerifyError):
        cwt.COSE.new().decode(token[:-1] + bytes([token[-1] ^ 1]), key)


def test_sign1_rejects_bad_kid_and_signer():
    with pytest.raises(ValueError):
        tokens.tap_token(tokens.status_claims(1), KID[:7], signer)
    with pytest.raises(ValueError):
        tokens.tap_token(tokens.status_claims(1), KID, lambda d: signer(d)[:63])


def _sign1(protected=b"\xa1\x01\x26", unprotected=None, payload=b"\xa0", sig=bytes(64), tag=18):
    arr = [protected, {4: KID} if unprotected is None else unprotected, payload, sig]
    return cbor2.dumps(arr if tag is None else cbor2.CBORTag(tag, arr))


@pytest.mark.parametrize("data", [
    _sign1(tag=None), _sign1(tag=17), _sign1(protected=b"\xa1\x01\x38\x22"),
    _sign1(protected=b"\xa0"), _sign1(protected=b"\xa1\x01\x26\x00"), _sign1(protected="x"),
    _sign1(unprotected={4: KID[:7]}), _sign1(unprotected={4: KID, 1: -7}), _sign1(unprotected={}),
    _sign1(unprotected={4: "12345678"}), _sign1(payload="text"), _sign1(sig=bytes(63)),
    _sign1(sig=bytes(65)), _sign1() + b"\x00", _sign1()[:-1],
    cbor2.dumps(cbor2.CBORTag(18, [b"\xa1\x01\x26", {4: KID}, b"\xa0"])),
    bytes.fromhex("d29f") + _sign1(tag=None)[1:] + b"\xff",
], ids=lambda d: d.hex()[:24])
def test_parse_sign1_rejects(data):
    with pytest.raises(cbor.CBORError):
        fwcose.parse_sign1(data)


# ---- challenge ----

def test_challenge_round_trip():
    c = tokens.challenge("T-A330100-01", 1798800000, NONCE)
    assert cbor2.loads(c) == {3: "T-A330100-01", 6: 1798800000, 10: NONCE}
    assert c == cbor.dumps({3: "T-A330100-01", 6: 1798800000, 10: NONCE})
    assert tokens.parse_challenge(c) == ("T-A330100-01", 1798800000, NONCE)
    longest = tokens.challenge("\U00010151" * 32, 2**64 - 1, NONCE)
    assert tokens.parse_challenge(longest)[0] == "\U00010151" * 32


BAD_CHALLENGES = [
    {3: "T", 6: 1, 10: bytes(15)}, {3: "T", 6: 1, 10: bytes(17)}, {3: "T", 6: 1, 10: "x" * 16},
    {3: "T", 6: -1, 10: NONCE}, {3: "T", 6: "1", 10: NONCE}, {3: "T", 6: True, 10: NONCE},
    {3: "", 6: 1, 10: NONCE}, {3: "T" * 33, 6: 1, 10: NONCE}, {3: b"T", 6: 1, 10: NONCE},
    {3: "T", 6: 1, 10: NONCE, 4: 0}, {3: "T", 6: 1}, {3: "T", 10: NONCE}, {6: 1, 10: NONCE},
    {1: "T", 6: 1, 10: NONCE}, [1, 2, 3], "T", {},
]


@pytest.mark.parametrize("data", [cbor.dumps(c) for c in BAD_CHALLENGES] + [
    tokens.challenge("T", 1, NONCE) + b"\x00",          # trailing
    tokens.challenge("T", 1, NONCE)[:-1],                # truncated
    bytes.fromhex("a3" "0a50") + NONCE + bytes.fromhex("036154" "0601"),   # keys out of order
    bytes.fromhex("a3" "036154" "061801" "0a50") + NONCE,                   # non-shortest time
    bytes.fromhex("bf" "036154" "0601" "0a50") + NONCE + b"\xff",           # indefinite map
    b"", b"\xa3" + bytes(200),
], ids=lambda d: d.hex()[:24])
def test_parse_challenge_rejects(data):
    with pytest.raises(tokens.BadChallenge):
        tokens.parse_challenge(data)


def test_bad_challenge_hierarchy():
    assert issubclass(tokens.BadChallenge, cbor.CBORError)
    assert issubclass(tokens.BadChallenge, ValueError)
    with pytest.raises(tokens.BadChallenge):
        tokens.parse_challenge("a3")


# ---- MicroPython ----

def test_tokens_under_micropython(upy):
    bad = [cbor.dumps(c).hex() for c in BAD_CHALLENGES]
    script = """
import binascii, hashlib
from xinka import cbor, cose, tokens
def fake(d):
    return hashlib.sha256(d).digest() + hashlib.sha256(d + b"s").digest()
kid = binascii.unhexlify(%r)
nonce = binascii.unhexlify(%r)
for claims in (tokens.status_claims(42), tokens.consent_claims(42, 63),
               tokens.checkin_claims(43, "T-A330100-01", 1798800000, nonce)):
    t = tokens.tap_token(claims, kid, fake)
    assert cose.parse_sign1(t)[2] == claims
    print(binascii.hexlify(t).decode())
c = tokens.challenge("T-A330100-01", 1798800000, nonce)
assert tokens.parse_challenge(c) == ("T-A330100-01", 1798800000, nonce)
for h in %r:
    try:
        tokens.parse_challenge(binascii.unhexlify(h))
        raise AssertionError("accepted " + h)
    except tokens.BadChallenge:
        pass
print(binascii.hexlify(c).decode())
""" % (KID.hex(), NONCE.hex(), bad)
    out = upy(script).stdout.split()
    expected = [tokens.tap_token(c, KID, fake_signer).hex() for c in (
        tokens.status_claims(42), tokens.consent_claims(42, 63),
        tokens.checkin_claims(43, "T-A330100-01", 1798800000, NONCE))]
    expected.append(tokens.challenge("T-A330100-01", 1798800000, NONCE).hex())
    assert out == expected
