"""Tap tokens: what a badge signs at every read (RFC 9052 COSE_Sign1, RFC 8392 claims).

`docs/protocol.md` "Tap token": protected `{1: -7}`, kid = the badge's kid (= the credential's
cnf kid), claims `{? 3 aud, ? 6 iat, ? 10 nonce, -65537 ctr, -65538 pur, ? -65539 scp}`.
`status` and `consent` tokens carry no aud/iat/nonce; `checkin` tokens carry all three (the
terminal's challenge); `consent` carries the scope bits, the others none; ctr >= 1.

This is the verifier's hot path, so the claims are parsed straight from the payload bytes
by a small parser that accepts exactly the deterministic encodings of the CDDL map (closed key
set, keys in order, shortest heads, definite lengths); the tests hold it to `cbor.decode`
plus the CDDL on random and mutated inputs. The tap URL and the check-in response
carry the token and the credential as a CBOR sequence (RFC 8742): `split_sequence`.
"""
from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import cbor, keys
from .claims import AUD, CREDENTIAL_LIMIT, CTR, IAT, NONCE, PUR, SCP, TOKEN_LIMIT, need, \
    need_uint, only_keys
from .cose import PROTECTED_ES256, parse_sign1, sign1, verify
from .credential import Credential, CredentialCache
from .errors import Malformed, Oversized, UnknownKey, WrongPurpose

if TYPE_CHECKING:
    from .cbor import BytesLike
    from .trust import TrustList

__all__ = ["Tap", "verify_tap", "build_tap", "split_sequence", "encode_challenge",
           "parse_challenge", "STATUS", "CONSENT", "CHECKIN", "PURPOSES", "PURPOSE_CODES",
           "SCOPE_CERTIFICATES", "SCOPE_HEALTH", "SCOPE_INSURANCE", "SCOPE_AGENCY",
           "SCOPE_CREDIT", "SCOPE_ATTENDANCE"]

STATUS, CONSENT, CHECKIN = 1, 2, 3
PURPOSES = {STATUS: "status", CONSENT: "consent", CHECKIN: "checkin"}
PURPOSE_CODES = {name: code for code, name in PURPOSES.items()}
SCOPE_CERTIFICATES, SCOPE_HEALTH, SCOPE_INSURANCE = 1, 2, 4
SCOPE_AGENCY, SCOPE_CREDIT, SCOPE_ATTENDANCE = 8, 16, 32
# the scope bits by name, as the provisioning tool and the pages name them
SCOPE_NAMES = {"certificates": SCOPE_CERTIFICATES, "health": SCOPE_HEALTH,
               "insurance": SCOPE_INSURANCE, "agency": SCOPE_AGENCY, "credit": SCOPE_CREDIT,
               "attendance": SCOPE_ATTENDANCE}
SCOPE_ALL = 0x3F


def parse_scope(text: str) -> int:
    """'all', 'none' or comma-separated names ('certificates,health') -> the scope bits;
    ValueError naming an unknown name."""
    words = [w.strip().lower() for w in text.split(",") if w.strip()]
    if words == ["all"]:
        return SCOPE_ALL
    if words == ["none"]:
        return 0
    unknown = [w for w in words if w not in SCOPE_NAMES]
    if unknown or not words:
        raise ValueError(f"unknown scope {', '.join(unknown) or repr(text)}: use all, none or "
                         f"{', '.join(SCOPE_NAMES)}")
    bits = 0
    for w in words:
        bits |= SCOPE_NAMES[w]
    return bits


def scope_names(bits: int) -> list[str]:
    return [name for name, bit in SCOPE_NAMES.items() if bits & bit]
NONCE_SIZE = 16

# The claims in deterministic (bytewise) order are aud 03, iat 06, nonce 0A, then
# ctr 3A00010000, pur 3A00010001, scp 3A00010002; `_claims` works with their rank 0..5.
_RANK_OF = {0x03: 0, 0x06: 1, 0x0a: 2}          # one-byte keys -> rank
_PRIVATE = b"\x3a\x00\x01\x00"                 # the first 4 bytes of the private keys


@dataclass(slots=True)
class Tap:
    """A verified tap token, with the credential it was verified against."""

    purpose: str
    counter: int
    scope: int | None
    nonce: bytes | None
    terminal_id: str | None
    terminal_time: int | None
    credential: Credential = field(repr=False)
    badge_kid: bytes
    token: bytes = field(repr=False)
    token_hash: bytes = field(repr=False)


def _uint(p: bytes, i: int) -> tuple[int, int]:
    """(value, next index) of the shortest-form unsigned integer at p[i]."""
    b = p[i]
    if b < 24:
        return b, i + 1
    if b == 24:
        v = p[i + 1]
        if v >= 24:
            return v, i + 2
    elif b == 25:
        v = int.from_bytes(p[i + 1:i + 3], "big")
        if v >= 0x100:
            return v, i + 3
    elif b == 26:
        v = int.from_bytes(p[i + 1:i + 5], "big")
        if v >= 0x10000:
            return v, i + 5
    elif b == 27:
        v = int.from_bytes(p[i + 1:i + 9], "big")
        if v >= 0x100000000:
            return v, i + 9
    else:
        raise Malformed("expected an unsigned integer")
    raise Malformed("integer not in shortest form")


def _string(p: bytes, i: int, major: int) -> tuple[bytes, int]:
    """(bytes, next index) of the definite-length, shortest-form string of `major` at p[i]."""
    n = p[i] - major
    if 0 <= n < 24:
        i += 1
    elif n == 24 and p[i + 1] >= 24:
        n, i = p[i + 1], i + 2
    elif n == 25 and p[i + 1]:
        n, i = (p[i + 1] << 8) | p[i + 2], i + 3
    else:
        raise Malformed("expected a definite-length, shortest-form string")
    return p[i:i + n], i + n


def _claims(p: bytes) -> list[Any]:
    """The tap claims as a list indexed by rank (aud, iat, nonce, ctr, pur, scp; None when
    absent), parsed straight from the payload bytes: a map of 2..6 entries whose keys are in
    the closed set below and in deterministic order, every head in shortest form, nothing
    after the map. The tests check this against `cbor.decode` plus the CDDL, input by input.
    """
    c: list[Any] = [None] * 6
    try:
        n = p[0] - 0xa0
        if not 2 <= n <= 6:
            raise Malformed("tap claims must be a map of 2 to 6 claims")
        i, last = 1, -1
        for _ in range(n):
            b = p[i]
            if b == 0x3a and p[i:i + 4] == _PRIVATE and p[i + 4] < 3:
                r, i = 3 + p[i + 4], i + 5
            else:
                r = _RANK_OF.get(b)
                if r is None:
                    raise Malformed(f"unexpected claim in a tap token (byte {b:#04x})")
                i += 1
            if r <= last:
                raise Malformed("claims not in deterministic order, or repeated")
            last = r
            if r == 0:
                s, i = _string(p, i, 0x60)
                c[0] = s.decode()
            elif r == 2:
                c[2], i = _string(p, i, 0x40)
            else:
                c[r], i = _uint(p, i)
        if i != len(p):
            raise Malformed("claims truncated, or bytes after them")
    except IndexError as err:
        raise Malformed("claims truncated") from err
    except UnicodeDecodeError as err:
        raise Malformed("aud is not UTF-8") from err
    aud, iat, nonce, ctr, pur, scp = c
    if pur is None or ctr is None:
        raise Malformed("tap token without ctr or pur")
    if ctr < 1:
        raise Malformed("ctr must be >= 1")
    if pur == CHECKIN:
        if aud is None or iat is None or nonce is None:
            raise Malformed("checkin token needs aud, iat and nonce")
        if len(nonce) != NONCE_SIZE:
            raise Malformed(f"nonce must be {NONCE_SIZE} bytes")
        if scp is not None:
            raise Malformed("checkin token carries no scope")
    elif pur == STATUS or pur == CONSENT:
        if aud is not None or iat is not None or nonce is not None:
            raise Malformed(f"{PURPOSES[pur]} token carries no aud, iat or nonce")
        if (scp is not None) != (pur == CONSENT):
            raise Malformed("scope is required in a consent token and only there")
    else:
        raise Malformed(f"unknown purpose {pur}")
    return c


def verify_tap(token: BytesLike, credential: BytesLike | Credential, trust_list: TrustList,
               now: int, purposes: str | Collection[str | int] | None = None,
               cache: CredentialCache | None = None) -> Tap:
    """Verify a tap token against a credential (bytes, or a `Credential` from `verify` or a
    `CredentialCache`, which is re-checked cheaply) and the trust list, at time `now`.

    `purposes`: the purposes (names or codes) the caller accepts, None for any; a token of
    another purpose is WrongPurpose. `cache`: a CredentialCache for credential bytes.
    """
    if isinstance(credential, Credential):
        cred = credential.check(trust_list, now)
    elif cache is not None:
        cred = cache.verify(credential, trust_list, now)
    else:
        cred = Credential.verify(credential, trust_list, now)
    msg = parse_sign1(token, TOKEN_LIMIT)
    if msg.protected_bytes != PROTECTED_ES256:
        raise Malformed("tap token protected header must be exactly {1: -7}")
    if msg.kid != cred.badge_kid:
        raise UnknownKey(f"token kid {msg.kid.hex()} is not the credential's badge key")
    verify(msg, cred.badge_public_key)
    aud, iat, nonce, ctr, pur, scp = _claims(msg.payload_bytes)
    name = PURPOSES[pur]
    if purposes is not None:
        if type(purposes) is str:
            purposes = (purposes,)
        if name not in purposes and pur not in purposes:
            raise WrongPurpose(f"a {name} token, expected {', '.join(map(str, purposes))}")
    if type(token) is not bytes:
        token = bytes(token)
    return Tap(name, ctr, scp, nonce, aud, iat, cred, cred.badge_kid, token,
               hashlib.sha256(token).digest())


def build_tap(badge_private_key: keys.PrivateKey, purpose: str | int, counter: int,
              scope: int | None = None, terminal_id: str | None = None,
              terminal_time: int | None = None, nonce: bytes | None = None) -> bytes:
    """A tap token signed by the badge key (host simulators and tests; the badge firmware
    builds the same bytes itself)."""
    code = PURPOSE_CODES.get(purpose, purpose) if type(purpose) is str else purpose
    if code not in PURPOSES or type(counter) is not int or counter < 1:
        raise ValueError("purpose must be status/consent/checkin and counter >= 1")
    checkin = (terminal_id, terminal_time, nonce)
    if (code == CHECKIN) != all(x is not None for x in checkin) or \
            (code != CHECKIN and any(x is not None for x in checkin)):
        raise ValueError("terminal_id, terminal_time and nonce go with checkin, all three")
    if (code == CONSENT) != (scope is not None):
        raise ValueError("scope goes with consent, and consent needs one")
    claims: dict[int, Any] = {CTR: counter, PUR: code}
    if code == CHECKIN:
        if nonce is None or len(nonce) != NONCE_SIZE:       # None: refused above
            raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
        claims.update({AUD: terminal_id, IAT: terminal_time, NONCE: bytes(nonce)})
    if code == CONSENT:
        claims[SCP] = scope
    return sign1(badge_private_key, cbor.encode(claims))


def split_sequence(data: BytesLike) -> tuple[bytes, bytes]:
    """(token, credential) from a CBOR sequence of exactly two strict items."""
    data = cbor.as_bytes(data)
    if len(data) > TOKEN_LIMIT + CREDENTIAL_LIMIT:
        raise Oversized(f"{len(data)} bytes, limit {TOKEN_LIMIT + CREDENTIAL_LIMIT}")
    n = cbor.item_length(data)
    token, cred = data[:n], data[n:]
    if not cred:
        raise Malformed("one item, expected token and credential")
    if cbor.item_length(cred) != len(cred):
        raise Malformed("more than two items, expected token and credential")
    cbor.decode(token, TOKEN_LIMIT, tag18=True)
    cbor.decode(cred, CREDENTIAL_LIMIT, tag18=True)
    return token, cred


def encode_challenge(terminal_id: str, terminal_time: int, nonce: bytes) -> bytes:
    """The check-in challenge a terminal writes to the badge: {3: id, 6: time, 10: nonce}."""
    if len(nonce) != NONCE_SIZE:
        raise ValueError(f"nonce must be {NONCE_SIZE} bytes")
    return cbor.encode({AUD: terminal_id, IAT: terminal_time, NONCE: bytes(nonce)})


def parse_challenge(data: BytesLike) -> tuple[str, int, bytes]:
    """(terminal id, terminal time, nonce) from a check-in challenge."""
    c = cbor.decode(data, TOKEN_LIMIT)
    if type(c) is not dict:
        raise Malformed("challenge is not a map")
    only_keys(c, (AUD, IAT, NONCE), "challenge")
    nonce = need(c, NONCE, bytes, "nonce")
    if len(nonce) != NONCE_SIZE:
        raise Malformed(f"nonce must be {NONCE_SIZE} bytes")
    return need(c, AUD, str, "terminal id"), need_uint(c, IAT, "terminal time"), nonce
