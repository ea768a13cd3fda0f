"""Interop with two independent COSE implementations: python-cwt and pycose (`cose`).

Our tokens, credentials and lists verify with both; Sign1 messages both of them build verify
with ours. Where they are lenient (trailing bytes, indefinite lengths, unsorted claims) ours
refuses, and the tests say so.
"""
import cbor2
import cwt
import pytest
from cose.algorithms import Es256
from cose.headers import KID, Algorithm
from cose.keys import EC2Key
from cose.keys.curves import P256
from cose.messages import CoseMessage, Sign1Message

from host.wire import cbor, keys, tap
from host.wire.claims import CTR, PUR
from host.wire.credential import Credential
from host.wire.errors import Malformed
from host.wire.sample import World
from host.wire.tap import build_tap, verify_tap
from host.wire.trust import TrustList

W = World(n_agencies=1, n_badges=1)
NOW = W.now
TL = TrustList.load(W.trust_list, W.authority, NOW)
BADGE = W.badges[0]
CRED = Credential.verify(BADGE.credential, TL, NOW)
AGENCY_KEY = W.agency_keys["A330100"]


def cwt_key(key, private=False):
    pt = keys.point(key)
    m = {1: 2, 2: keys.kid(key), -1: 1, -2: pt[1:33], -3: pt[33:], 3: -7}
    if private:
        m[-4] = key.private_numbers().private_value.to_bytes(32, "big")
    return cwt.COSEKey.new(m)


def pycose_key(key, private=False):
    pt = keys.point(key)
    d = key.private_numbers().private_value.to_bytes(32, "big") if private else b""
    return EC2Key(crv=P256, x=pt[1:33], y=pt[33:], d=d)


TOKENS = {
    "status": lambda: build_tap(BADGE.key, "status", 1),
    "consent": lambda: build_tap(BADGE.key, "consent", 2, scope=63),
    "checkin": lambda: build_tap(BADGE.key, "checkin", 3, terminal_id="T-A330100-01",
                                 terminal_time=NOW, nonce=bytes(range(16))),
}


@pytest.mark.parametrize("purpose", sorted(TOKENS))
def test_cwt_verifies_our_tokens(purpose):
    token = TOKENS[purpose]()
    payload = cwt.COSE.new().decode(token, cwt_key(BADGE.key))
    assert cbor2.loads(payload)[PUR] == tap.PURPOSE_CODES[purpose]


def test_cwt_decode_reads_our_status_token_as_a_cwt():
    assert cwt.decode(TOKENS["status"](), keys=cwt_key(BADGE.key)) == {CTR: 1, PUR: 1}


def test_cwt_verifies_our_credential_and_lists():
    claims = cbor2.loads(cwt.COSE.new().decode(BADGE.credential, cwt_key(AGENCY_KEY)))
    assert claims[1] == "A330100" and claims[8][1][2] == keys.kid(BADGE.key)
    cwt.COSE.new().decode(W.trust_list, cwt_key(W.authority))
    cwt.COSE.new().decode(W.status_list("A330100", revoked=[1]), cwt_key(AGENCY_KEY))


@pytest.mark.parametrize("purpose", sorted(TOKENS))
def test_pycose_verifies_our_tokens(purpose):
    msg = CoseMessage.decode(TOKENS[purpose]())
    assert isinstance(msg, Sign1Message) and msg.uhdr[KID] == keys.kid(BADGE.key)
    msg.key = pycose_key(BADGE.key)
    assert msg.verify_signature()


def test_pycose_verifies_our_credential_and_trust_list():
    for data, key in ((BADGE.credential, AGENCY_KEY), (W.trust_list, W.authority)):
        msg = CoseMessage.decode(data)
        msg.key = pycose_key(key)
        assert msg.verify_signature()


def test_we_verify_pycose_tokens():
    for claims in ({CTR: 9, PUR: 1}, {CTR: 10, PUR: 2, -65539: 5},
                   {3: "T-1", 6: NOW, 10: bytes(16), CTR: 11, PUR: 3}):
        msg = Sign1Message(phdr={Algorithm: Es256}, uhdr={KID: keys.kid(BADGE.key)},
                           payload=cbor.encode(claims))
        msg.key = pycose_key(BADGE.key, private=True)
        t = verify_tap(msg.encode(), CRED, TL, NOW)
        assert t.counter == claims[CTR]


def test_we_verify_cwt_tokens():
    payload = cbor.encode({CTR: 12, PUR: 1})
    data = cwt.COSE.new().encode(payload, cwt_key(BADGE.key, private=True), protected={1: -7},
                                 unprotected={4: keys.kid(BADGE.key)})
    assert verify_tap(data, CRED, TL, NOW).counter == 12
    auto = cwt.COSE.new(alg_auto_inclusion=True, kid_auto_inclusion=True).encode(
        payload, cwt_key(BADGE.key, private=True))
    assert verify_tap(auto, CRED, TL, NOW).counter == 12


def test_where_the_peers_are_lenient_we_are_not():
    token = TOKENS["status"]()
    key = cwt_key(BADGE.key)
    # python-cwt accepts trailing bytes after the token
    cwt.COSE.new().decode(token + b"\x00", key)
    with pytest.raises(Malformed):
        verify_tap(token + b"\x00", CRED, TL, NOW)
    # cwt.encode adds exp/nbf/iat after our private claims: not a tap token, not sorted
    full = cwt.encode({CTR: 13, PUR: 1}, cwt_key(BADGE.key, private=True))
    with pytest.raises(Malformed):
        verify_tap(full, CRED, TL, NOW)
    # an indefinite-length outer array: pycose reads it, we refuse it
    indefinite = b"\xd2\x9f" + token[2:] + b"\xff"
    msg = CoseMessage.decode(indefinite)
    msg.key = pycose_key(BADGE.key)
    assert msg.verify_signature()
    with pytest.raises(Malformed):
        verify_tap(indefinite, CRED, TL, NOW)
