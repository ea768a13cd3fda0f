"""The agency trust list: a CWT (RFC 8392) signed by the authority, as a COSE_Sign1.

`docs/protocol.md` "Agency trust list": protected `{1: -7, 16: "application/xk-trustlist+cwt"}`
(typ, RFC 9596), claims `{iss, exp, iat, seq, agencies}`, each agency `{1: id, 2: name,
3: [+ COSE_Key], 4: nbf, 5: exp}`. The authority's public key is the one configured trust
anchor. Loaded lists answer `agency_key(kid)` and `agency(id)` from dicts, in O(1).
"""
from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from . import cbor, keys
from .claims import (AGENCIES, EXP, IAT, ISS, LEEWAY, SEQ, TRUST_LIST_LIMIT, check_window,
                     need, need_uint, only_keys)
from .cbor import BytesLike
from .cose import HDR_TYP, parse_sign1, protected_header, sign1, verify
from .errors import Malformed, UnknownKey
from .keys import AnyKey, PrivateKey, PublicKey

__all__ = ["Agency", "TrustList", "build_trust_list", "TYP"]

log = logging.getLogger(__name__)

TYP = "application/xk-trustlist+cwt"
A_ID, A_NAME, A_KEYS, A_NBF, A_EXP = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Agency:
    """One agency entry: its id, name, issuer public keys and validity window (a private key
    given for `keys` is kept as its public key)."""

    id: str
    name: str
    keys: tuple[PublicKey, ...]
    nbf: int
    exp: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "keys", tuple(keys.public_key_of(k) for k in self.keys))

    @property
    def kids(self) -> tuple[bytes, ...]:
        return tuple(keys.kid(k) for k in self.keys)

    def check_time(self, now: int) -> None:
        """Expired / NotYetValid unless the agency entry is valid at `now` (leeway 300 s)."""
        if now + LEEWAY < self.nbf or now - LEEWAY > self.exp:
            check_window(now, self.nbf, self.exp, f"agency {self.id}")


def build_trust_list(authority_key: PrivateKey, authority_id: str,
                     agencies: Iterable[Agency], seq: int, iat: int, exp: int) -> bytes:
    """A trust list signed by `authority_key`, as bytes."""
    claims = {
        ISS: authority_id, EXP: exp, IAT: iat, SEQ: seq,
        AGENCIES: [{A_ID: a.id, A_NAME: a.name, A_KEYS: [keys.cose_key(k) for k in a.keys],
                    A_NBF: a.nbf, A_EXP: a.exp} for a in agencies],
    }
    return sign1(authority_key, cbor.encode(claims), protected_header(TYP))


def _agency(entry: object) -> Agency:
    if type(entry) is not dict:
        raise Malformed("agency entry is not a map")
    only_keys(entry, (A_ID, A_NAME, A_KEYS, A_NBF, A_EXP), "agency entry")
    key_maps = need(entry, A_KEYS, list, "agency keys")
    if not key_maps:
        raise Malformed("agency has no keys")
    return Agency(
        need(entry, A_ID, str, "agency id"), need(entry, A_NAME, str, "agency name"),
        tuple(keys.decode_cose_key(m)[0] for m in key_maps),
        need_uint(entry, A_NBF, "agency nbf"), need_uint(entry, A_EXP, "agency exp"))


class TrustList:
    """A verified trust list: lookups by agency id and by issuer-key kid."""

    def __init__(self, iss: str, seq: int, iat: int, exp: int, agencies: Iterable[Agency],
                 authority_key: PublicKey | None = None) -> None:
        self.iss, self.seq, self.iat, self.exp = iss, seq, iat, exp
        self.agencies: tuple[Agency, ...] = tuple(agencies)
        self.authority_key = authority_key
        self.authority_kid = keys.kid(authority_key) if authority_key is not None else None
        self._by_id: dict[str, Agency] = {}
        self._by_kid: dict[bytes, tuple[Agency, PublicKey]] = {}
        for agency in self.agencies:
            if agency.id in self._by_id:
                raise Malformed(f"agency {agency.id} listed twice")
            self._by_id[agency.id] = agency
            for key in agency.keys:
                k = keys.kid(key)
                if k in self._by_kid:
                    raise Malformed(f"issuer key {k.hex()} listed twice")
                self._by_kid[k] = (agency, key)

    @classmethod
    def load(cls, data: BytesLike, authority_public_key: AnyKey, now: int) -> TrustList:
        """Verify a trust list against the authority's key and its validity at `now`."""
        authority_public_key = keys.public_key_of(authority_public_key)
        msg = parse_sign1(data, TRUST_LIST_LIMIT)
        if msg.protected.get(HDR_TYP) != TYP:
            raise Malformed(f"typ is not {TYP}")
        if msg.kid != keys.kid(authority_public_key):
            raise UnknownKey(f"trust list signed by {msg.kid.hex()}, not the authority")
        verify(msg, authority_public_key)
        claims = cbor.decode(msg.payload_bytes, TRUST_LIST_LIMIT)
        if type(claims) is not dict:
            raise Malformed("trust list claims are not a map")
        only_keys(claims, (ISS, EXP, IAT, SEQ, AGENCIES), "trust list claims")
        iss = need(claims, ISS, str, "iss")
        exp, iat = need_uint(claims, EXP, "exp"), need_uint(claims, IAT, "iat")
        seq = need_uint(claims, SEQ, "seq")
        agencies = [_agency(e) for e in need(claims, AGENCIES, list, "agencies")]
        check_window(now, iat, exp, "trust list")
        log.debug("trust list %s seq %d verified: %d agencies", iss, seq, len(agencies))
        return cls(iss, seq, iat, exp, agencies, authority_public_key)

    def agency(self, agency_id: str) -> Agency | None:
        """The Agency with this id, or None."""
        return self._by_id.get(agency_id)

    def agency_key(self, kid: bytes) -> tuple[Agency, PublicKey] | None:
        """(Agency, public key) for an issuer-key kid, or None."""
        return self._by_kid.get(kid)

    def __len__(self) -> int:
        return len(self.agencies)

    def __repr__(self) -> str:
        return f"<TrustList {self.iss} seq={self.seq} agencies={len(self.agencies)}>"
