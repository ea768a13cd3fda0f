"""COSE_Sign1: signing, strict parsing, verification, and the fast path."""
import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from host.wire import cbor, cose, keys
from host.wire.errors import BadSignature, Malformed, Oversized, WrongAlg
from host.wire.sample import secret

KEY = secret("cose test")
OTHER = secret("cose other")
KID = keys.kid(KEY)
PAYLOAD = cbor.encode({-65537: 42, -65538: 1})


def raw(protected=cose.PROTECTED_ES256, unprotected=None, payload=PAYLOAD, sig=None, tag=18):
    """A Sign1 assembled with cbor2 (not deterministic where the arguments say so)."""
    if unprotected is None:
        unprotected = {4: KID}
    if sig is None:
        sig = cose.parse_sign1(cose.sign1(KEY, payload, protected), 4096).signature
    return cbor2.dumps(cbor2.CBORTag(tag, [protected, unprotected, payload, sig]))


def test_sign_parse_verify():
    data = cose.sign1(KEY, PAYLOAD)
    assert data[:2] == b"\xd2\x84" and len(data) == 2 + 4 + 11 + 1 + len(PAYLOAD) + 66
    msg = cose.parse_sign1(data, 256)
    assert msg.protected == {1: -7} and msg.kid == KID and msg.payload_bytes == PAYLOAD
    cose.verify(msg, KEY.public_key())
    assert raw() == data      # cbor2 encodes the same bytes


def test_signatures_are_deterministic_rfc6979():
    assert cose.sign1(KEY, PAYLOAD) == cose.sign1(KEY, PAYLOAD)


def test_sig_structure_matches_rfc9052():
    for protected in (cose.PROTECTED_ES256, cose.protected_header("application/x+cwt"), b""):
        want = cbor2.dumps(["Signature1", protected, b"", PAYLOAD])
        assert cose.sig_structure(protected, PAYLOAD) == want


def test_protected_header_with_typ_verifies():
    p = cose.protected_header("application/statuslist+cwt")
    assert cbor2.loads(p) == {1: -7, 16: "application/statuslist+cwt"}
    msg = cose.parse_sign1(cose.sign1(KEY, PAYLOAD, p), 256)
    assert msg.protected[16] == "application/statuslist+cwt"
    cose.verify(msg, KEY.public_key())


def _der_token():
    tbs = cose.sig_structure(cose.PROTECTED_ES256, PAYLOAD)
    return raw(sig=KEY.sign(tbs, ec.ECDSA(hashes.SHA256())))


CASES = {
    "untagged": (lambda: cbor2.dumps([cose.PROTECTED_ES256, {4: KID}, PAYLOAD, b"\0" * 64]),
                 Malformed),
    "tag 17 (MAC0)": (lambda: raw(tag=17), Malformed),
    "tag 98 (Sign)": (lambda: raw(tag=98), Malformed),
    "tag in long form": (lambda: b"\xd8\x12" + raw()[1:], Malformed),
    "three elements": (lambda: cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b""])), Malformed),
    "not an array": (lambda: cbor2.dumps(cbor2.CBORTag(18, {})), Malformed),
    "truncated": (lambda: raw()[:-1], Malformed),
    "trailing bytes": (lambda: raw() + b"\x00", Malformed),
    "indefinite array": (lambda: b"\xd2\x9f" + raw()[2:] + b"\xff", Malformed),
    "long-form payload length": (
        lambda: raw().replace(cbor.bstr(PAYLOAD), b"\x58" + bytes((len(PAYLOAD),)) + PAYLOAD),
        Malformed),
    "kid in protected only": (lambda: raw(protected=cbor.encode({1: -7, 4: KID}),
                                          unprotected={}), Malformed),
    "unprotected extra key": (lambda: raw(unprotected={4: KID, 1: -7}), Malformed),
    "kid 7 bytes": (lambda: raw(unprotected={4: KID[:7]}), Malformed),
    "kid text": (lambda: raw(unprotected={4: "abcdefgh"}), Malformed),
    "protected not a map": (lambda: raw(protected=b"\x80"), Malformed),
    "protected empty": (lambda: raw(protected=b""), Malformed),
    "protected unsorted": (lambda: raw(protected=bytes.fromhex("a2 10 6161 01 26")), Malformed),
    "protected unknown header": (lambda: raw(protected=cbor.encode({1: -7, 2: [1]})),
                                 Malformed),
    "payload not bytes": (lambda: cbor2.dumps(cbor2.CBORTag(
        18, [cose.PROTECTED_ES256, {4: KID}, {1: 2}, b"\0" * 64])), Malformed),
    "alg ES384": (lambda: raw(protected=cbor.encode({1: -35})), WrongAlg),
    "alg EdDSA": (lambda: raw(protected=cbor.encode({1: -8})), WrongAlg),
    "alg as text": (lambda: raw(protected=cbor.encode({1: "ES256"})), WrongAlg),
    "signature DER": (_der_token, BadSignature),
    "signature 63 bytes": (lambda: raw(sig=b"\x01" * 63), BadSignature),
    "signature empty": (lambda: raw(sig=b""), BadSignature),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_parse_refuses(name):
    build, exc = CASES[name]
    with pytest.raises(exc):
        cose.parse_sign1(build(), 4096)


def test_oversized():
    data = cose.sign1(KEY, PAYLOAD)
    with pytest.raises(Oversized):
        cose.parse_sign1(data, len(data) - 1)
    cose.parse_sign1(data, len(data))


@pytest.mark.parametrize("index", [20, 40, 90, -1])
def test_flipped_bit_does_not_verify(index):
    data = bytearray(cose.sign1(KEY, PAYLOAD))
    data[index] ^= 0x01
    with pytest.raises((BadSignature, Malformed)):
        cose.verify(cose.parse_sign1(bytes(data), 256), KEY.public_key())


def test_wrong_key_and_edge_signatures():
    msg = cose.parse_sign1(cose.sign1(KEY, PAYLOAD), 256)
    with pytest.raises(BadSignature):
        cose.verify(msg, OTHER.public_key())
    for sig in (b"\0" * 64, b"\xff" * 64, b"\0" * 32 + msg.signature[32:]):
        with pytest.raises(BadSignature):
            cose.verify(msg._replace(signature=sig), KEY.public_key())


def test_der_encoder_matches_cryptography():
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
    for sig in (bytes(range(64)), b"\x80" * 64, b"\0" * 64, b"\0" * 31 + b"\x80" + b"\x7f" * 32,
                b"\xff" * 32 + b"\0" * 31 + b"\x01"):
        r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
        assert cose._der(sig) == encode_dss_signature(r, s)


def test_fast_path_agrees_with_the_general_path():
    # the same bytes through the fast path and through the cbor2 path give the same Sign1
    for payload in (b"", b"\xa0", b"x" * 23, b"x" * 24, b"x" * 200):
        data = cose.sign1(KEY, payload)
        fast = cose._fast_es256(data)
        assert fast is not None
        general = cose.parse_sign1(data + b"", 1024)
        assert fast == general
        assert cose.parse_sign1(bytearray(data), 1024) == fast
    assert cose._fast_es256(b"\xd2\x84\x43\xa1\x01\x26\xa1\x04\x48" + b"\0" * 74) is None
