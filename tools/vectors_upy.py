"""Produce the signed structures of tests/vectors/ with the firmware library (MicroPython).

Run by tools/gen_vectors.py under the micropython command, with firmware/lib on the path.
Every key and nonce is derived from a public label: these are TEST KEYS, worthless outside tests.
Prints one JSON object per line: {"name": ..., "token": hex, "credential": hex, ...}.
"""
import hashlib
import json
import binascii

from xinka import cbor
from xinka import cose
from xinka import ecdsa
from xinka import p256
from xinka import tokens

NOW = 1798761600            # 2027-01-01T00:00:00Z, the "now" of every vector
NBF = 1767225600            # 2026-01-01
EXP = 1861920000            # 2029-01-01
AUTHORITY = "CN-ZJ-HZ-COMMERCE"
AGENCY = "A330100"
OUTSIDER = "B440300"        # an agency that is not in the trust list
STATUS_URI = "https://v.example.cn/sl/A330100"


def h(b):
    return binascii.hexlify(b).decode()


def test_key(label):
    d = int.from_bytes(hashlib.sha256(b"xinka test key: " + label.encode()).digest(), "big")
    return ecdsa.Key(d % (p256.N - 1) + 1)


_nonce_ctr = [0]


def signer_for(key):
    """A signer with a deterministic nonce per signature (vectors must be reproducible)."""
    def sign(digest):
        _nonce_ctr[0] += 1
        seed = b"xinka test nonce: %d:" % _nonce_ctr[0] + digest
        k = int.from_bytes(hashlib.sha256(seed).digest(), "big") % (p256.N - 1) + 1
        return ecdsa.sign(key, digest, k)
    return sign


def cose_key(key):
    return {1: 2, 2: key.kid(), -1: 1, -2: key.x.to_bytes(32, "big"), -3: key.y.to_bytes(32, "big")}


def credential(agency_key, badge_key, iss=AGENCY, sub="W-7Q2KXH", nbf=NBF, exp=EXP, idx=4711,
               uri=STATUS_URI, ueid=b"\x02\xa4\xcf\x12\x00\x3a\x7e", protected=cose.PROTECTED_ES256):
    claims = {1: iss, 2: sub, 4: exp, 5: nbf, 6: nbf, 8: {1: cose_key(badge_key)}, 256: ueid,
              65535: {"status_list": {"idx": idx, "uri": uri}}}
    return cose.sign1(protected, agency_key.kid(), cbor.dumps(claims), signer_for(agency_key))


def trust_list(authority_key, agency_keys):
    protected = cbor.dumps({1: -7, 16: "application/xk-trustlist+cwt"})
    agencies = [{1: AGENCY, 2: "杭州安心家政服务有限公司", 3: [cose_key(k) for k in agency_keys],
                 4: NBF, 5: EXP}]
    claims = {1: AUTHORITY, 4: EXP, 6: NOW - 86400, -65546: 7, -65545: agencies}
    return cose.sign1(protected, authority_key.kid(), cbor.dumps(claims), signer_for(authority_key))


def main():
    authority = test_key("authority")
    agency = test_key("agency " + AGENCY)
    rotated = test_key("agency " + AGENCY + " previous")
    outsider = test_key("agency " + OUTSIDER)
    badge = test_key("badge 1")
    other_badge = test_key("badge 2")
    tl = trust_list(authority, [agency, rotated])
    cred = credential(agency, badge)
    bsign = signer_for(badge)
    nonce = bytes(range(16))
    common = {"trust_list": h(tl), "authority_key": h(cbor.dumps(cose_key(authority))),
              "agency_key": h(cbor.dumps(cose_key(agency))), "now": NOW}

    def emit(name, token, cred_bytes=cred, **extra):
        out = {"name": name, "token": h(token), "credential": h(cred_bytes)}
        for k in common:
            out[k] = common[k]
        for k in extra:
            out[k] = extra[k]
        print(json.dumps(out))

    def tap(claims, key=badge, protected=cose.PROTECTED_ES256, kid=None):
        return cose.sign1(protected, kid or key.kid(), claims, signer_for(key))

    emit("valid-status", tokens.tap_token(tokens.status_claims(1), badge.kid(), bsign))
    emit("valid-status-large-counter",
         tokens.tap_token(tokens.status_claims(2 ** 32 + 5), badge.kid(), bsign))
    emit("valid-consent", tokens.tap_token(tokens.consent_claims(2, 63), badge.kid(), bsign))
    emit("valid-checkin", tokens.tap_token(
        tokens.checkin_claims(3, "T-A330100-01", NOW - 60, nonce), badge.kid(), bsign), nonce=h(nonce))
    emit("valid-credential-rotated-agency-key",
         tokens.tap_token(tokens.status_claims(4), badge.kid(), bsign), credential(rotated, badge))
    big_cred = credential(agency, badge, sub="W-" + "X" * 30, uri="https://verify.commerce.hangzhou.gov.cn/sl/A330100-2027")
    emit("valid-largest-checkin", tokens.tap_token(
        tokens.checkin_claims(2 ** 63, "T" * 32, 2 ** 32 - 1, nonce), badge.kid(), bsign), big_cred,
        nonce=h(nonce))

    good = tokens.status_claims(9)
    emit("bad-signature-token", tap(good), corrupt="token-signature")
    emit("bad-signature-credential", tap(good), corrupt="credential-signature")
    emit("wrong-alg-token-es384", tap(good, protected=cbor.dumps({1: -35})))
    emit("wrong-alg-credential-eddsa", tap(good), credential(agency, badge, protected=cbor.dumps({1: -8})))
    emit("der-signature-token", tap(good), corrupt="token-der")
    emit("unknown-kid-token", tap(good, key=other_badge))
    emit("unknown-kid-credential", tap(good), credential(outsider, badge))
    emit("untrusted-issuer", tap(good), credential(outsider, badge, iss=OUTSIDER))
    emit("expired-credential", tap(good), credential(agency, badge, nbf=NBF - 10 ** 7, exp=NOW - 3600))
    emit("not-yet-valid-credential", tap(good), credential(agency, badge, nbf=NOW + 86400))
    emit("truncated-token", tap(good), corrupt="token-truncate")
    emit("truncated-credential", tap(good), corrupt="credential-truncate")
    emit("trailing-bytes-token", tap(good), corrupt="token-trailing")
    emit("indefinite-length-array", tap(good), corrupt="token-indefinite-array")
    # the payload map below is indefinite-length and validly signed
    emit("indefinite-length-payload", tap(b"\xbf\x3a\x00\x01\x00\x00\x09\x3a\x00\x01\x00\x01\x01\xff"))
    emit("wrong-tag-token", tap(good), corrupt="token-tag-17")
    emit("untagged-token", tap(good), corrupt="token-untag")
    emit("oversized-token", tap(cbor.dumps({-65537: 10, -65538: 1, -65539: 1, -65600: b"\x00" * 300})))
    # {-65537: 11, -65538: 1, -65537: 12}: a duplicate key, validly signed
    emit("duplicate-map-keys", tap(b"\xa3\x3a\x00\x01\x00\x00\x0a\x3a\x00\x01\x00\x01\x01\x3a\x00\x01\x00\x00\x0b"))
    # ctr 13 as a 4-byte integer: not the shortest form
    emit("non-shortest-integer", tap(b"\xa2\x3a\x00\x01\x00\x00\x1a\x00\x00\x00\x0d\x3a\x00\x01\x00\x01\x01"))
    emit("checkin-without-nonce", tap(cbor.dumps({3: "T-1", 6: NOW, -65537: 14, -65538: 3})))
    emit("status-with-checkin-claims", tap(cbor.dumps({3: "T-1", 6: NOW, 10: nonce, -65537: 15, -65538: 1})))
    emit("zero-counter", tap(cbor.dumps({-65537: 0, -65538: 1})))
    emit("unknown-purpose", tap(cbor.dumps({-65537: 16, -65538: 9})))
    emit("float-in-claims", tap(b"\xa2\x3a\x00\x01\x00\x00\xfa\x41\x88\x00\x00\x3a\x00\x01\x00\x01\x01"))


main()
