"""Status lists: 2 bits per badge, signed (IETF OAuth Token Status List, CWT form).

`docs/protocol.md` "Status list token": protected `{1: -7, 16: "application/statuslist+cwt"}`,
claims `{2 sub: uri, 4 exp, 6 iat, 65533 status_list: {"bits": 2, "lst": zlib(array)},
65534 ttl, -65546 seq}`. The array (draft-ietf-oauth-status-list §4.1): index i lives in byte
i // 4 at bits 2*(i % 4) and up, least significant first; 0 valid, 1 revoked, 2 suspended,
3 reserved and read as revoked. `lst` is zlib (RFC 1950); decompression is bounded (a few KB
can inflate to gigabytes), beyond the bound is `oversized`.

Loading checks iat/exp when given a time. A verifier that must go on with a stale list (and
say how stale, per its policy) loads with `now=None` and reads `iat`, `exp` and `ttl` itself.
"""
from __future__ import annotations

import logging
import zlib

from . import cbor, keys
from .claims import (EXP, IAT, SEQ, STATUS_LIST, STATUS_LIST_LIMIT, SUB, TTL, check_window,
                     need, need_uint, only_keys)
from .cbor import BytesLike
from .cose import HDR_TYP, parse_sign1, protected_header, sign1, verify
from .errors import Malformed, Oversized, UnknownKey
from .keys import AnyKey, PrivateKey, PublicKey
from .trust import Agency, TrustList

__all__ = ["StatusList", "StatusListToken", "build_status_list", "TYP", "VALID", "REVOKED",
           "SUSPENDED", "MAX_LIST_BYTES"]

log = logging.getLogger(__name__)

TYP = "application/statuslist+cwt"
VALID, REVOKED, SUSPENDED, RESERVED = 0, 1, 2, 3
BITS = 2
MAX_LIST_BYTES = 8 * 1024 * 1024        # 33.5 M entries; 16.7 M badges need 4.2 MB


class StatusList:
    """A 2-bit status array. `StatusList(n)` holds n entries (rounded up to 4), all valid."""

    def __init__(self, size_or_bytes: int | bytes | bytearray = 0) -> None:
        if isinstance(size_or_bytes, int):
            self._buf = bytearray((size_or_bytes + 3) // 4)
        else:
            self._buf = bytearray(size_or_bytes)

    def __len__(self) -> int:
        return 4 * len(self._buf)

    def get(self, i: int) -> int:
        """The status of index i: VALID, REVOKED or SUSPENDED (reserved 3 reads as revoked).
        An index the list does not cover is Malformed."""
        if type(i) is not int or not 0 <= i < 4 * len(self._buf):
            raise Malformed(f"index {i!r} is outside the status list ({len(self)} entries)")
        v = (self._buf[i >> 2] >> ((i & 3) << 1)) & 3
        return REVOKED if v == RESERVED else v

    def set(self, i: int, value: int) -> None:
        """Set index i (0 <= i < len) to VALID, REVOKED or SUSPENDED."""
        if not 0 <= value <= 3:
            raise ValueError("a status is 2 bits")
        if not 0 <= i < len(self):
            raise IndexError(f"index {i} outside the status list ({len(self)} entries)")
        shift = (i & 3) << 1
        self._buf[i >> 2] = (self._buf[i >> 2] & ~(3 << shift) & 0xFF) | (value << shift)

    def to_bytes(self) -> bytes:
        return bytes(self._buf)


def build_status_list(key: PrivateKey, uri: str, statuses: StatusList | bytes | bytearray,
                      seq: int, iat: int, exp: int, ttl: int) -> bytes:
    """A status list token signed by `key`; `statuses` is a StatusList or its bytes."""
    raw = statuses.to_bytes() if isinstance(statuses, StatusList) else bytes(statuses)
    claims = {SUB: uri, EXP: exp, IAT: iat, TTL: ttl, SEQ: seq,
              STATUS_LIST: {"bits": BITS, "lst": zlib.compress(raw, 9)}}
    return sign1(key, cbor.encode(claims), protected_header(TYP))


def _inflate(lst: bytes, max_bytes: int) -> bytes:
    d = zlib.decompressobj()
    try:
        raw = d.decompress(lst, max_bytes + 1)
    except zlib.error as err:
        raise Malformed(f"lst is not zlib ({err})") from err
    if len(raw) > max_bytes:
        raise Oversized(f"status list inflates beyond {max_bytes} bytes")
    if not d.eof:
        raise Malformed("lst: truncated zlib stream")
    if d.unused_data:
        raise Malformed("lst: bytes after the zlib stream")
    return raw


def _signer(trust_or_key: TrustList | AnyKey, kid: bytes) -> tuple[PublicKey, Agency | None]:
    """(public key, Agency or None) for the kid, from a TrustList or one public key."""
    if isinstance(trust_or_key, TrustList):
        entry = trust_or_key.agency_key(kid)
        if entry is not None:
            return entry[1], entry[0]
        if trust_or_key.authority_key is not None and kid == trust_or_key.authority_kid:
            return trust_or_key.authority_key, None
        raise UnknownKey(f"status list signed by unknown key {kid.hex()}")
    key = keys.public_key_of(trust_or_key)
    if kid != keys.kid(key):
        raise UnknownKey(f"status list signed by {kid.hex()}, not the given key")
    return key, None


class StatusListToken:
    """A verified status list token: uri, seq, iat, exp, ttl, signer, and the statuses."""

    def __init__(self, uri: str, seq: int, iat: int, exp: int, ttl: int, statuses: StatusList,
                 kid: bytes, signer: Agency | None = None) -> None:
        self.uri, self.seq, self.iat, self.exp, self.ttl = uri, seq, iat, exp, ttl
        self.statuses, self.kid, self.signer = statuses, kid, signer

    @classmethod
    def load(cls, data: BytesLike, trust_or_public_key: TrustList | AnyKey, now: int | None,
             max_bytes: int = MAX_LIST_BYTES) -> StatusListToken:
        """Verify a status list token signed by an agency or the authority of a TrustList (or
        by the one public key given); check iat/exp at `now` unless `now` is None."""
        msg = parse_sign1(data, STATUS_LIST_LIMIT)
        if msg.protected.get(HDR_TYP) != TYP:
            raise Malformed(f"typ is not {TYP}")
        key, agency = _signer(trust_or_public_key, msg.kid)
        verify(msg, key)
        claims = cbor.decode(msg.payload_bytes, STATUS_LIST_LIMIT)
        if type(claims) is not dict:
            raise Malformed("status list claims are not a map")
        only_keys(claims, (SUB, EXP, IAT, STATUS_LIST, TTL, SEQ), "status list claims")
        sl = need(claims, STATUS_LIST, dict, "status_list")
        only_keys(sl, ("bits", "lst"), "status_list")
        if need(sl, "bits", int, "bits") != BITS:
            raise Malformed(f"bits must be {BITS}")
        lst = need(sl, "lst", bytes, "lst")
        uri, seq = need(claims, SUB, str, "sub"), need_uint(claims, SEQ, "seq")
        iat, exp = need_uint(claims, IAT, "iat"), need_uint(claims, EXP, "exp")
        ttl = need_uint(claims, TTL, "ttl")
        if now is not None:
            check_window(now, iat, exp, "status list")
        token = cls(uri, seq, iat, exp, ttl, StatusList(_inflate(lst, max_bytes)), msg.kid,
                    agency)
        log.debug("status list %s seq %d verified: %d entries", uri, seq, len(token.statuses))
        return token

    def get(self, i: int) -> int:
        """The status of index i (see StatusList.get)."""
        return self.statuses.get(i)

    def age(self, now: int) -> int:
        """Seconds since the list was issued."""
        return now - self.iat

    def fresh(self, now: int) -> bool:
        """True while `now` is within ttl of iat: no newer list need be fetched yet."""
        return now <= self.iat + self.ttl

    def __repr__(self) -> str:
        return f"<StatusListToken {self.uri} seq={self.seq} entries={len(self.statuses)}>"
