"""The compact status list on the host: the firmware codec itself (`xinka.revocation`, one
implementation for terminal and verifier), plus what only the host needs: the sets from a
2-bit status list, signing, and a `verify(kid, digest, sig)` backed by a TrustList.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from xinka import revocation

from . import keys
from .cose import sign1

if TYPE_CHECKING:
    from .trust import TrustList

__all__ = ["codec", "sets_from_bits", "build", "build_delta", "changes", "trust_verifier",
           "CompactError", "SigVerifier"]

log = logging.getLogger(__name__)

# verify(kid, digest, sig) -> bool: how the codec checks a manifest's or a delta's signature
SigVerifier = Callable[[bytes, bytes, bytes], bool]

codec = revocation
CompactError = codec.CompactError
_NONZERO = re.compile(rb"[^\x00]")


def sets_from_bits(raw: bytes) -> tuple[list[int], list[int]]:
    """(revoked, suspended) sorted index lists of a 2-bit status array (3 counts as revoked)."""
    rev, sus = [], []
    for m in _NONZERO.finditer(raw):
        p = m.start()
        b = raw[p]
        for j in range(4):
            v = (b >> (2 * j)) & 3
            if v == 2:
                sus.append(4 * p + j)
            elif v:
                rev.append(4 * p + j)
    return rev, sus


def build(key: keys.PrivateKey, uri: str, seq: int, iat: int, exp: int, ttl: int, raw: bytes,
          target: int = codec.TARGET) -> tuple[bytes, list[bytes]]:
    """(manifest bytes, chunks) for a 2-bit status array `raw`, signed by `key`."""
    rev, sus = sets_from_bits(raw)
    n = 4 * len(raw)
    starts, chunks = codec.encode_chunks(rev, sus, n, target)
    claims = codec.manifest_claims(uri, seq, iat, exp, ttl, n, starts, chunks)
    log.debug("compact list %s seq %d: %d revoked, %d suspended, %d chunks", uri, seq,
              len(rev), len(sus), len(chunks))
    return sign1(key, claims, codec.protected(codec.TYP)), chunks


def changes(old_raw: bytes, new_raw: bytes) -> list[tuple[int, int]]:
    """Sorted [(index, new status)] where two 2-bit arrays differ (the longer one counts;
    entries past the shorter are valid there)."""
    n = max(len(old_raw), len(new_raw))
    a, b = old_raw.ljust(n, b"\0"), new_raw.ljust(n, b"\0")
    out = []
    step = 4096
    for base in range(0, n, step):
        if a[base:base + step] == b[base:base + step]:
            continue
        for p in range(base, min(n, base + step)):
            if a[p] != b[p]:
                for j in range(4):
                    x, y = (a[p] >> 2 * j) & 3, (b[p] >> 2 * j) & 3
                    if x != y:
                        out.append((4 * p + j, 1 if y == 3 else y))
    return out


def build_delta(key: keys.PrivateKey, uri: str, from_seq: int, seq: int, iat: int,
                diff: list[tuple[int, int]]) -> bytes:
    """A signed delta from from_seq to seq carrying `diff` ([(index, status)], sorted)."""
    return sign1(key, codec.delta_claims(uri, from_seq, seq, iat, diff),
                 codec.protected(codec.TYP_DELTA))


def key_verifier(public_keys: Mapping[bytes, keys.PublicKey]) -> SigVerifier:
    """verify(kid, digest, sig) over a {kid: public key} mapping (ES256, raw r||s)."""
    def verify(kid: bytes, digest: bytes, sig: bytes) -> bool:
        key = public_keys.get(bytes(kid))
        if key is None or len(sig) != 64:
            return False
        der = encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                   int.from_bytes(sig[32:], "big"))
        try:
            key.verify(der, bytes(digest), ec.ECDSA(Prehashed(hashes.SHA256())))
            return True
        except InvalidSignature:
            return False
    return verify


def trust_verifier(trust: TrustList, uri: str | None = None) -> SigVerifier:
    """verify(kid, digest, sig) accepting the authority's key and, for a list uri ending in
    /sl/<agency>, that agency's issuer keys only (an agency signs its own list only)."""
    found: dict[bytes, keys.PublicKey] = {}
    if trust.authority_key is not None and trust.authority_kid is not None:
        found[trust.authority_kid] = trust.authority_key
    for agency in trust.agencies:
        if uri is None or uri.endswith("/sl/" + agency.id):
            for k in agency.keys:
                found[keys.kid(k)] = k
    return key_verifier(found)
