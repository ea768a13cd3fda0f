"""Tap tokens and the check-in challenge (docs/protocol.md "Tap token", "Check-in challenge").

Claims are a CWT claims map (RFC 8392 §3) written straight into deterministic CBOR
(RFC 8949 §4.2.1), keys in encoded order: 3 aud, 6 iat, 10 nonce, then the private
-65537 ctr, -65538 pur, -65539 scp. The token is a COSE_Sign1 over those bytes (cose.py).
"""
from xinka import cbor
from xinka import cose

from xinka.compat import const

PURPOSE_STATUS = const(1)
PURPOSE_CONSENT = const(2)
PURPOSE_CHECKIN = const(3)

NONCE_SIZE = const(16)
TERMINAL_ID_MAX = const(32)     # characters
_CHALLENGE_MAX = const(160)     # bytes: map, 3 keys, tstr of 32 4-byte chars, uint64, bstr 16

# claim keys (RFC 8392 §4, IANA CWT registry; private range for ours)
_AUD = const(3)
_IAT = const(6)
_NONCE = const(10)
_CTR = const(-65537)
_PUR = const(-65538)
_SCP = const(-65539)
_UINT64_MAX = const(0xFFFFFFFFFFFFFFFF)


class BadChallenge(cbor.CBORError):
    """A check-in challenge that is not exactly {3: tstr, 6: uint, 10: bstr .size 16}."""


def _uint(x, lo=0):
    return isinstance(x, int) and x is not True and x is not False and lo <= x <= _UINT64_MAX


def _int(out, v):
    cbor.write_head(out, 0 if v >= 0 else 1, v if v >= 0 else -1 - v)


def _check_ctr(ctr):
    if not _uint(ctr, 1):
        raise ValueError("ctr must be a uint >= 1")


def _check_challenge(terminal_id, terminal_time, nonce):
    if not isinstance(terminal_id, str) or not 1 <= len(terminal_id) <= TERMINAL_ID_MAX:
        raise ValueError("terminal id must be 1..32 characters")
    if not _uint(terminal_time):
        raise ValueError("terminal time must be a uint")
    if not isinstance(nonce, (bytes, bytearray, memoryview)) or len(nonce) != NONCE_SIZE:
        raise ValueError("nonce must be 16 bytes")


def _tail(out, ctr, purpose):
    _int(out, _CTR)
    _int(out, ctr)
    _int(out, _PUR)
    _int(out, purpose)


def status_claims(ctr):
    """{-65537: ctr, -65538: 1}"""
    _check_ctr(ctr)
    out = bytearray(b"\xa2")
    _tail(out, ctr, PURPOSE_STATUS)
    return bytes(out)


def consent_claims(ctr, scope):
    """{-65537: ctr, -65538: 2, -65539: scope}"""
    _check_ctr(ctr)
    if not _uint(scope):
        raise ValueError("scope must be a uint")
    out = bytearray(b"\xa3")
    _tail(out, ctr, PURPOSE_CONSENT)
    _int(out, _SCP)
    _int(out, scope)
    return bytes(out)


def _challenge_map(out, terminal_id, terminal_time, nonce):
    # keys 3, 6, 10: the first three entries of both a challenge and checkin claims
    raw = terminal_id.encode("utf-8")
    out.append(_AUD)
    cbor.write_head(out, 3, len(raw))
    out.extend(raw)
    out.append(_IAT)
    cbor.write_head(out, 0, terminal_time)
    out.append(_NONCE)
    cbor.write_head(out, 2, NONCE_SIZE)
    out.extend(nonce)


def checkin_claims(ctr, terminal_id, terminal_time, nonce):
    """{3: terminal_id, 6: terminal_time, 10: nonce, -65537: ctr, -65538: 3}"""
    _check_ctr(ctr)
    _check_challenge(terminal_id, terminal_time, nonce)
    out = bytearray(b"\xa5")
    _challenge_map(out, terminal_id, terminal_time, nonce)
    _tail(out, ctr, PURPOSE_CHECKIN)
    return bytes(out)


def tap_token(claims, kid, signer):
    """The signed tap token: COSE_Sign1 with protected {1: -7} over claims bytes."""
    return cose.sign1(cose.PROTECTED_ES256, kid, claims, signer)


def challenge(terminal_id, terminal_time, nonce):
    """Encode a check-in challenge {3: terminal_id, 6: terminal_time, 10: nonce}."""
    _check_challenge(terminal_id, terminal_time, nonce)
    out = bytearray(b"\xa3")
    _challenge_map(out, terminal_id, terminal_time, nonce)
    return bytes(out)


def parse_challenge(data):
    """Strictly decode a challenge: (terminal_id, terminal_time, nonce). Raises BadChallenge."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise BadChallenge("challenge is not bytes")
    if len(data) > _CHALLENGE_MAX:
        raise BadChallenge("challenge too long")
    try:
        obj = cbor.loads(data)
    except cbor.CBORError as e:
        raise BadChallenge(e.args[0] if e.args else "malformed")
    if not isinstance(obj, dict) or len(obj) != 3:
        raise BadChallenge("challenge must be a map of 3")
    tid = obj.get(_AUD)
    t = obj.get(_IAT)
    nonce = obj.get(_NONCE)
    if not isinstance(tid, str) or not 1 <= len(tid) <= TERMINAL_ID_MAX:
        raise BadChallenge("bad terminal id")
    if not _uint(t):
        raise BadChallenge("bad terminal time")
    if not isinstance(nonce, bytes) or len(nonce) != NONCE_SIZE:
        raise BadChallenge("bad nonce")
    return tid, t, nonce
