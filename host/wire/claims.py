"""Claim keys, size limits, the leeway and the small checks every signed structure shares.

Claim keys are from the IANA CWT registry (RFC 8392 §4; `cnf` RFC 8747 §3.1; `ueid` EAT,
RFC 9711 §4.2.1; `status`, `status_list`, `ttl` from the IETF Token Status List draft); our
own claims use the private range below -65536 (RFC 8392 §4, "private use"). See the tables in
`docs/protocol.md`.
"""
from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from typing import Any, TypeVar

from .errors import Expired, Malformed, NotYetValid

T = TypeVar("T")

# registered claims
ISS, SUB, AUD, EXP, NBF, IAT, CNF, NONCE = 1, 2, 3, 4, 5, 6, 8, 10
UEID = 256
STATUS = 65535
STATUS_LIST = 65533
TTL = 65534
CNF_COSE_KEY = 1        # cnf => { 1 => COSE_Key } (RFC 8747 §3.2)

# private claims
CTR = -65537            # tap token: the badge's counter
PUR = -65538            # tap token: purpose
SCP = -65539            # tap token: consent scope bits
AGENCIES = -65545       # trust list: the agency entries
SEQ = -65546            # trust list, status list: sequence number

# size limits in bytes (docs/protocol.md "Size limits")
TOKEN_LIMIT = 256
CREDENTIAL_LIMIT = 512
TRUST_LIST_LIMIT = 64 * 1024
STATUS_LIST_LIMIT = 8 * 1024 * 1024
NDEF_LIMIT = 888

LEEWAY = 300            # seconds, for every nbf / exp / iat check on the verifier


def need(claims: Mapping[Any, Any], key: object, typ: type[T], what: str) -> T:
    """claims[key], which must be present and of exactly type `typ` (bool is not int)."""
    value = claims.get(key)
    if type(value) is not typ:
        if value is None:
            raise Malformed(f"{what} missing")
        raise Malformed(f"{what} must be {typ.__name__}, not {type(value).__name__}")
    return value


def need_uint(claims: Mapping[Any, Any], key: object, what: str) -> int:
    """claims[key] as an unsigned integer."""
    value = need(claims, key, int, what)
    if value < 0:
        raise Malformed(f"{what} must be unsigned")
    return value


def only_keys(mapping: Iterable[object], allowed: Container[object], what: str) -> None:
    """Refuse a map with keys outside `allowed` (the CDDL maps of the spec are closed)."""
    for key in mapping:
        if key not in allowed or type(key) is bool:
            raise Malformed(f"unexpected key {key!r} in {what}")


def check_window(now: int, nbf: int | None, exp: int, what: str, leeway: int = LEEWAY) -> None:
    """Refuse `now` outside nbf .. exp, with `leeway` seconds either side (nbf may be None)."""
    if nbf is not None and now + leeway < nbf:
        raise NotYetValid(f"{what} not valid before {nbf} (now {now})")
    if now - leeway > exp:
        raise Expired(f"{what} expired at {exp} (now {now})")
