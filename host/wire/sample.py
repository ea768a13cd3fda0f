"""A small, consistent world of keys and signed objects for simulators, tests and benchmarks.

Keys come from fixed scalars (`keys.from_secret`) and signatures use RFC 6979 nonces, so a
`World` built with the same arguments is the same bytes every time: usable as test vectors.
The times are those of the examples in `docs/protocol.md` (2026-2029).
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from . import keys
from .credential import issue, ueid_from_mac
from .status import StatusList, build_status_list
from .tap import build_tap
from .trust import Agency, build_trust_list

__all__ = ["World", "Badge", "NOW", "secret"]

NOW = 1798800000        # 2027-01-01 10:40 UTC: the spec's checkin example terminal time
T2026, T2027, T2028, T2029 = 1767225600, 1798761600, 1830297600, 1861920000
AUTHORITY_ID = "CN-ZJ-HZ-COMMERCE"
STATUS_HOST = "v.example.cn"


def secret(label: str) -> keys.PrivateKey:
    """A deterministic P-256 private key named by `label`."""
    d = int.from_bytes(hashlib.sha256(b"xinka sample " + label.encode()).digest(), "big")
    return keys.from_secret(d % (2**256 - 2**224 - 1) or 1)


@dataclass
class Badge:
    """One provisioned badge: its key, credential bytes and counter."""

    key: keys.PrivateKey
    credential: bytes
    status_idx: int
    agency_id: str
    counter: int = 0

    def tap(self, purpose: str = "status", **kw: Any) -> bytes:
        """The next tap token (counter +1 first, as the firmware does)."""
        self.counter += 1
        return build_tap(self.key, purpose, self.counter, **kw)


@dataclass
class World:
    """An authority, `n_agencies` agencies and `n_badges` badges spread over them."""

    n_agencies: int = 2
    n_badges: int = 4
    now: int = NOW
    authority: keys.PrivateKey = field(init=False)
    agency_keys: dict[str, keys.PrivateKey] = field(init=False)
    agencies: list[Agency] = field(init=False)
    badges: list[Badge] = field(init=False)
    trust_list: bytes = field(init=False)

    def __post_init__(self) -> None:
        self.authority = secret("authority")
        self.agency_keys = {}
        self.agencies = []
        for a in range(self.n_agencies):
            aid = f"A3301{a:02d}"
            self.agency_keys[aid] = secret(f"agency {aid}")
            self.agencies.append(Agency(aid, f"杭州安心家政{a}",
                                        (self.agency_keys[aid].public_key(),), T2026, T2029))
        self.trust_list = build_trust_list(self.authority, AUTHORITY_ID, self.agencies, 1,
                                           T2027 - 86400, T2028)
        self.badges = [self.make_badge(i) for i in range(self.n_badges)]

    def make_badge(self, i: int, agency_id: str | None = None, **overrides: Any) -> Badge:
        """Badge number i (status index i) of an agency (round robin by default)."""
        agency_id = agency_id or self.agencies[i % len(self.agencies)].id
        key = secret(f"badge {i}")
        args: dict[str, Any] = dict(agency_key=self.agency_keys[agency_id], agency_id=agency_id,
                    worker_ref=f"W-{i:07d}", badge_public_key=key.public_key(),
                    ueid=ueid_from_mac(bytes.fromhex("A4CF12") + i.to_bytes(3, "big")),
                    status_idx=i, status_uri=self.status_uri(agency_id), iat=T2026,
                    nbf=T2026, exp=T2028)
        args.update(overrides)
        return Badge(key, issue(**args), i, agency_id)

    def status_uri(self, agency_id: str) -> str:
        return f"https://{STATUS_HOST}/sl/{agency_id}"

    def status_list(self, agency_id: str, revoked: Iterable[int] = (),
                    suspended: Iterable[int] = (), seq: int = 1, size: int | None = None) -> bytes:
        """A status list token for an agency, signed by its key."""
        lst = StatusList(size or max(self.n_badges, 4))
        for i in revoked:
            lst.set(i, 1)
        for i in suspended:
            lst.set(i, 2)
        return build_status_list(self.agency_keys[agency_id], self.status_uri(agency_id), lst,
                                 seq, self.now - 3600, self.now + 86400, 3600)
