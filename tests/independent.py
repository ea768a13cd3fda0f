"""A verdict on a tap (token + credential) from independent COSE/CWT implementations.

pycose (PyPI `cose`) checks the COSE_Sign1 signatures of the trust list and the tap token;
python-cwt decodes and verifies the credential and runs its own exp/nbf checks. Neither shares
code with `host.wire`. Both libraries are lenient where our format is strict (python-cwt accepts
trailing bytes and indefinite-length items; see test_peer_leniency), so a short strict
well-formedness check written here, on cbor2 alone, comes first. The claim rules of our private
claims are re-stated here from docs/protocol.md, not imported.
"""
import datetime
import io
from unittest import mock

import cbor2
import cwt
from cose.headers import KID, Algorithm
from cose.keys import EC2Key
from cose.messages import CoseMessage, Sign1Message

TOKEN_LIMIT, CREDENTIAL_LIMIT = 256, 512
ES256 = -7


class Refused(Exception):
    def __init__(self, reason, detail=""):
        super().__init__("%s: %s" % (reason, detail))
        self.reason = reason


def _strict_one_item(data):
    """One item, nothing after it, and already in deterministic encoding."""
    fp = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(fp).decode()
    except Exception as err:
        raise Refused("malformed", "cbor: %s" % err) from err
    if fp.tell() != len(data):
        raise Refused("malformed", "trailing bytes")
    if cbor2.dumps(value, canonical=True) != data:
        raise Refused("malformed", "not deterministic encoding")
    return value


def _strict_sign1(data):
    outer = _strict_one_item(data)
    if not isinstance(outer, cbor2.CBORTag) or outer.tag != 18:
        raise Refused("malformed", "not a tagged COSE_Sign1")
    arr = outer.value
    if not (isinstance(arr, list) and len(arr) == 4 and isinstance(arr[0], bytes)
            and isinstance(arr[2], bytes)):
        raise Refused("malformed", "COSE_Sign1 shape")
    for inner in (arr[0], arr[2]):
        value = _strict_one_item(inner)
        if not isinstance(value, dict):
            raise Refused("malformed", "header or payload is not a map")
        if any(isinstance(v, float) for v in value.values()):
            raise Refused("malformed", "float")
    return arr


def _pycose_key(cose_key_map):
    return EC2Key.from_dict({1: 2, -1: 1, -2: cose_key_map[-2], -3: cose_key_map[-3]})


def _pycose_verify(data, key_map, label):
    msg = CoseMessage.decode(data)
    if not isinstance(msg, Sign1Message):
        raise Refused("malformed", "%s is not Sign1" % label)
    alg = msg.phdr.get(Algorithm)
    if alg is None or alg.identifier != ES256:
        raise Refused("wrong_alg", "%s alg %r" % (label, alg))
    if len(msg.signature) != 64:
        raise Refused("bad_signature", "%s signature is %d bytes" % (label, len(msg.signature)))
    msg.key = _pycose_key(key_map)
    try:
        ok = msg.verify_signature()
    except Exception as err:
        raise Refused("bad_signature", "%s: %s" % (label, err)) from err
    if not ok:
        raise Refused("bad_signature", label)
    return msg


def _frozen_clock(now):
    real = datetime.datetime

    class Frozen(real):
        @classmethod
        def now(cls, tz=None):
            return real.fromtimestamp(now, tz=tz)
    return mock.patch("cwt.cwt.datetime", Frozen)


def _tap_claim_rules(claims):
    ctr, pur = claims.get(-65537), claims.get(-65538)
    if not isinstance(ctr, int) or ctr < 1 or pur not in (1, 2, 3):
        raise Refused("malformed", "counter or purpose")
    checkin = {k for k in (3, 6, 10) if k in claims}
    if pur == 3:
        if checkin != {3, 6, 10} or not isinstance(claims[10], bytes) or len(claims[10]) != 16:
            raise Refused("malformed", "checkin claims")
    elif checkin:
        raise Refused("malformed", "checkin claims on a %d token" % pur)
    if (pur == 2) != (-65539 in claims):
        raise Refused("malformed", "scope")
    return {1: "status", 2: "consent", 3: "checkin"}[pur], ctr


def verdict(vector):
    """('valid', purpose, counter) or raise Refused(reason)."""
    token = bytes.fromhex(vector["token"])
    cred = bytes.fromhex(vector["credential"])
    if len(token) > TOKEN_LIMIT or len(cred) > CREDENTIAL_LIMIT:
        raise Refused("oversized")
    _strict_sign1(cred)
    _strict_sign1(token)

    authority = cbor2.loads(bytes.fromhex(vector["authority_key"]))
    tl = _pycose_verify(bytes.fromhex(vector["trust_list"]), authority, "trust list")
    agencies = cbor2.loads(tl.payload)[-65545]

    cred_msg = CoseMessage.decode(cred)
    cred_claims = cbor2.loads(cred_msg.payload)
    agency = next((a for a in agencies if a[1] == cred_claims.get(1)), None)
    if agency is None:
        raise Refused("untrusted_issuer", cred_claims.get(1))
    kid = cred_msg.uhdr.get(KID)
    key_map = next((k for k in agency[3] if k[2] == kid), None)
    if key_map is None:
        raise Refused("unknown_key", "credential kid")
    _pycose_verify(cred, key_map, "credential")
    cwt_key = cwt.COSEKey.new({1: 2, 2: kid, 3: ES256, -1: 1, -2: key_map[-2], -3: key_map[-3]})
    with _frozen_clock(vector["now"]):
        try:
            claims = cwt.CWT.new(leeway=300).decode(cred, cwt_key)
        except cwt.VerifyError as err:
            text = str(err)
            if "expired" in text:
                raise Refused("expired", text) from err
            if "not yet valid" in text:
                raise Refused("not_yet_valid", text) from err
            raise Refused("bad_signature", text) from err
    badge_key = claims[8][1]

    tok_msg = CoseMessage.decode(token)
    if tok_msg.uhdr.get(KID) != badge_key[2]:
        raise Refused("unknown_key", "token kid is not the credential's cnf kid")
    _pycose_verify(token, badge_key, "token")
    purpose, counter = _tap_claim_rules(cbor2.loads(tok_msg.payload))
    return "valid", purpose, counter
