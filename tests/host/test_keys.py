"""kid, COSE_Key encode/decode and the public-key cache."""
import hashlib

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from host.wire import cbor, keys
from host.wire.errors import Malformed
from host.wire.sample import secret

KEY = secret("keys test")


def test_kid_is_truncated_sha256_of_the_uncompressed_point():
    pt = keys.point(KEY)
    assert len(pt) == 65 and pt[0] == 4
    assert keys.kid(KEY) == keys.kid(KEY.public_key()) == hashlib.sha256(pt).digest()[:8]


def test_cose_key_round_trip_and_wire_shape():
    m = keys.cose_key(KEY.public_key())
    data = cbor.encode(m)
    assert data[:7] == bytes.fromhex("a5 01 02 02 48") + keys.kid(KEY)[:2]
    assert list(cbor2.loads(data)) == [1, 2, -1, -2, -3]
    pub, k = keys.decode_cose_key(cbor.decode(data, 200))
    assert k == keys.kid(KEY)
    assert keys.point(pub) == keys.point(KEY)


def _mutated(**changes):
    m = keys.cose_key(KEY.public_key())
    for name, value in changes.items():
        key = {"kty": 1, "kid": 2, "crv": -1, "x": -2, "y": -3, "extra": 4}[name]
        if value is None:
            del m[key]
        else:
            m[key] = value
    return m


@pytest.mark.parametrize("changes", [
    {"kty": 1}, {"kty": True}, {"crv": 2}, {"crv": "P-256"}, {"kid": b"1234567"},
    {"kid": "12345678"}, {"x": b"\x00" * 31}, {"y": b"\x00" * 33}, {"x": "x" * 32},
    {"kid": None}, {"y": None}, {"extra": b"\x00"}, {"kid": b"\x00" * 8},
    {"y": b"\x00" * 32},          # not on the curve
], ids=str)
def test_decode_cose_key_refuses(changes):
    with pytest.raises(Malformed):
        keys.decode_cose_key(_mutated(**changes))


def test_decode_cose_key_refuses_non_maps():
    for junk in (None, [], b"", 5):
        with pytest.raises(Malformed):
            keys.decode_cose_key(junk)


def test_public_key_cache_returns_the_same_object():
    pt = keys.point(secret("cache test"))
    a = keys.public_key_from_point(pt)
    assert keys.public_key_from_point(pt) is a
    assert isinstance(a, ec.EllipticCurvePublicKey)
    for junk in (pt[:64], b"\x02" + pt[1:33], b"\x04" + b"\x00" * 64, "x"):
        with pytest.raises(Malformed):
            keys.public_key_from_point(junk)


def test_generate_and_from_secret():
    assert isinstance(keys.generate(), ec.EllipticCurvePrivateKey)
    assert keys.kid(keys.from_secret(7)) == keys.kid(keys.from_secret((7).to_bytes(32, "big")))
