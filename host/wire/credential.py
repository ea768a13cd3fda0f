"""The badge credential: a CWT (RFC 8392) an agency issuer key signs for one badge.

`docs/protocol.md` "Badge credential": protected `{1: -7}`, kid = the agency key's kid; claims
iss (agency id), sub (worker reference), exp, nbf, iat, cnf (RFC 8747 §3.2, the badge's
COSE_Key), ueid (EAT, RFC 9711 §4.2.1: 0x02 || MAC, 7 bytes) and status (Token Status List:
`{"status_list": {"idx": uint, "uri": tstr}}`).

Checks, in order: strict shape; the issuer is an agency of the trust list (`untrusted_issuer`);
the signing kid is a trusted key (`unknown_key`) of that same agency (`untrusted_issuer`); the
signature; the agency's and the credential's validity windows (leeway 300 s).

A verifier sees the same credential at every tap of the same badge, so `CredentialCache` keeps
verified credentials by their bytes and re-checks only the cheap parts (trust list membership,
validity windows) on a hit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import cbor, keys
from .claims import (CNF, CNF_COSE_KEY, CREDENTIAL_LIMIT, EXP, IAT, ISS, LEEWAY, NBF, STATUS,
                     SUB, UEID, check_window, need, need_uint, only_keys)
from .cose import PROTECTED_ES256, Sign1, parse_sign1, sign1, verify
from .errors import Malformed, UnknownKey, UntrustedIssuer

if TYPE_CHECKING:
    from .cbor import BytesLike
    from .trust import Agency, TrustList

__all__ = ["Credential", "CredentialCache", "issue", "ueid_from_mac"]

_CLAIM_KEYS = (ISS, SUB, EXP, NBF, IAT, CNF, UEID, STATUS)
UEID_TYPE_MAC = 0x02    # EAT ueid type 0x02: IEEE EUI-48


def ueid_from_mac(mac: bytes | bytearray) -> bytes:
    """The 7-byte ueid of a badge from its 6-byte MAC."""
    if len(mac) != 6:
        raise ValueError("a MAC is 6 bytes")
    return bytes((UEID_TYPE_MAC,)) + bytes(mac)


def issue(agency_key: keys.PrivateKey, agency_id: str, worker_ref: str,
          badge_public_key: keys.AnyKey, ueid: bytes | bytearray, status_idx: int,
          status_uri: str, iat: int, nbf: int, exp: int) -> bytes:
    """A credential for a badge, signed by `agency_key`, as bytes."""
    ueid = bytes(ueid)
    if len(ueid) != 7 or ueid[0] != UEID_TYPE_MAC:
        raise ValueError("ueid must be 7 bytes, 0x02 || MAC")
    claims = {
        ISS: agency_id, SUB: worker_ref, EXP: exp, NBF: nbf, IAT: iat,
        CNF: {CNF_COSE_KEY: keys.cose_key(badge_public_key)},
        UEID: ueid,
        STATUS: {"status_list": {"idx": status_idx, "uri": status_uri}},
    }
    return sign1(agency_key, cbor.encode(claims))


@dataclass(frozen=True, eq=False)
class Credential:
    """A badge credential. `verified` is True only for one that came out of `verify`."""

    iss: str
    sub: str
    exp: int
    nbf: int
    iat: int
    badge_public_key: keys.PublicKey = field(repr=False)
    badge_kid: bytes
    ueid: bytes
    status_idx: int
    status_uri: str
    issuer_kid: bytes
    raw: bytes = field(repr=False)
    verified: bool = False

    @property
    def serial(self) -> str:
        """The badge serial as printed: the MAC part of the ueid, in hex."""
        return self.ueid[1:].hex().upper()

    @classmethod
    def parse(cls, data: BytesLike) -> Credential:
        """Parse strictly WITHOUT checking the signature or the trust list."""
        return _parse(data)[0]

    @classmethod
    def verify(cls, data: BytesLike, trust_list: TrustList, now: int) -> Credential:
        """Parse and verify a credential against `trust_list` at time `now`."""
        cred, msg = _parse(data)
        agency, key = _issuer(trust_list, cred.iss, msg.kid)
        verify(msg, key)
        agency.check_time(now)
        check_window(now, cred.nbf, cred.exp, "credential")
        object.__setattr__(cred, "verified", True)     # not yet shared with anyone
        return cred

    def check(self, trust_list: TrustList, now: int) -> Credential:
        """This credential, re-checked against `trust_list` and `now` (signature not redone
        if it was verified); an unverified one is verified from its bytes."""
        if not self.verified:
            return Credential.verify(self.raw, trust_list, now)
        agency, _ = _issuer(trust_list, self.iss, self.issuer_kid)
        agency.check_time(now)
        if now + LEEWAY < self.nbf or now - LEEWAY > self.exp:
            check_window(now, self.nbf, self.exp, "credential")
        return self


def _issuer(trust_list: TrustList, iss: str,
            kid: bytes) -> tuple[Agency, keys.PublicKey]:
    agency = trust_list.agency(iss)
    if agency is None:
        raise UntrustedIssuer(f"issuer {iss!r} is not in the trust list")
    entry = trust_list.agency_key(kid)
    if entry is None:
        raise UnknownKey(f"no trusted issuer key has kid {kid.hex()}")
    if entry[0] is not agency:
        raise UntrustedIssuer(f"key {kid.hex()} belongs to {entry[0].id}, not {iss}")
    return entry


def _parse(data: BytesLike) -> tuple[Credential, Sign1]:
    msg = parse_sign1(data, CREDENTIAL_LIMIT)
    if msg.protected_bytes != PROTECTED_ES256:
        raise Malformed("credential protected header must be exactly {1: -7}")
    claims = cbor.decode(msg.payload_bytes, CREDENTIAL_LIMIT)
    if type(claims) is not dict:
        raise Malformed("credential claims are not a map")
    only_keys(claims, _CLAIM_KEYS, "credential claims")
    cnf = need(claims, CNF, dict, "cnf")
    only_keys(cnf, (CNF_COSE_KEY,), "cnf")
    badge_key, badge_kid = keys.decode_cose_key(need(cnf, CNF_COSE_KEY, dict, "cnf key"))
    ueid = need(claims, UEID, bytes, "ueid")
    if len(ueid) != 7 or ueid[0] != UEID_TYPE_MAC:
        raise Malformed("ueid must be 7 bytes, 0x02 || MAC")
    status = need(claims, STATUS, dict, "status")
    only_keys(status, ("status_list",), "status")
    ref = need(status, "status_list", dict, "status_list")
    only_keys(ref, ("idx", "uri"), "status_list")
    cred = Credential(
        iss=need(claims, ISS, str, "iss"), sub=need(claims, SUB, str, "sub"),
        exp=need_uint(claims, EXP, "exp"), nbf=need_uint(claims, NBF, "nbf"),
        iat=need_uint(claims, IAT, "iat"), badge_public_key=badge_key, badge_kid=badge_kid,
        ueid=ueid, status_idx=need_uint(ref, "idx", "status idx"),
        status_uri=need(ref, "uri", str, "status uri"), issuer_kid=msg.kid,
        raw=cbor.as_bytes(data))
    return cred, msg


class CredentialCache:
    """Verified credentials by their bytes (FIFO, at most `maxsize`); hits are re-checked
    against the trust list and the time but not re-verified."""

    def __init__(self, maxsize: int = 100_000) -> None:
        self.maxsize = maxsize
        self._items: dict[bytes, Credential] = {}

    def verify(self, data: BytesLike, trust_list: TrustList, now: int) -> Credential:
        cred = self._items.get(data) if type(data) is bytes else None
        if cred is not None:
            return cred.check(trust_list, now)
        cred = Credential.verify(data, trust_list, now)
        if len(self._items) >= self.maxsize:
            try:
                del self._items[next(iter(self._items))]
            except (KeyError, RuntimeError, StopIteration):   # another thread evicted first
                pass
        self._items[cred.raw] = cred
        return cred

    def __len__(self) -> int:
        return len(self._items)
