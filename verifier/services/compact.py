"""Compact status lists (docs/protocol.md "Compact status list"): the agency's newest signed
status list re-coded by the one codec the terminals run (host.wire.compact, i.e.
firmware/lib/revocation.py), a manifest signed with the same agency key, and deltas between
two stored seqs. Built on demand from the stored list tokens and kept in a small cache keyed
by (uri, seq), so several stateless processes serve the same chunks (the chunk bytes and
hashes are deterministic; only the manifest signature may differ between processes).
"""
from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from host.wire import TrustList, compact
from host.wire.keys import PrivateKey
from host.wire.status import StatusListToken

from ..models import StatusListBlob
from .errors import NoStatusKey, NotFound

log = logging.getLogger(__name__)


class Compact:
    """One compact list: the signed manifest, its chunks and the 2-bit array it codes."""

    def __init__(self, uri: str, seq: int, iat: int, manifest: bytes, chunks: list[bytes],
                 raw: bytes) -> None:
        self.uri, self.seq, self.iat = uri, seq, iat
        self.manifest, self.chunks, self.raw = manifest, chunks, raw


class CompactCache:
    """(uri, seq) -> Compact, the `size` newest used; thread-safe."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._d: OrderedDict[tuple[str, int], Compact] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int], make: Callable[[], Compact]) -> Compact:
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        value = make()
        with self._lock:
            self._d[key] = value
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return value


def _row(session: Session, agency_id: str, seq: int | None = None) -> StatusListBlob:
    q = select(StatusListBlob).where(StatusListBlob.agency_id == agency_id)
    q = q.where(StatusListBlob.seq == seq) if seq is not None else \
        q.order_by(StatusListBlob.seq.desc()).limit(1)
    row = session.scalars(q).first()
    if row is None:
        raise NotFound(f"no status list seq {seq if seq is not None else '(any)'} for "
                       f"{agency_id} / 无此状态列表")
    return row


def _signing_key(key: PrivateKey | None, agency_id: str) -> PrivateKey:
    if key is None:
        raise NoStatusKey(f"no status signing key for {agency_id}: no compact list / "
                          f"缺少该机构的签名密钥，无法提供压缩列表")
    return key


def _raw(row: StatusListBlob, trust: TrustList) -> bytes:
    # stored lists were verified at import; re-check the signature, not the time
    return StatusListToken.load(row.token, trust, None).statuses.to_bytes()


def current(session: Session, cache: CompactCache, trust: TrustList, agency_id: str,
            key: PrivateKey | None, seq: int | None = None) -> Compact:
    """The Compact of agency_id's newest list (or of `seq`), built and signed on first use."""
    key = _signing_key(key, agency_id)
    row = _row(session, agency_id, seq)

    def make():
        raw = _raw(row, trust)
        manifest, chunks = compact.build(key, row.uri, row.seq, row.iat, row.exp, row.ttl, raw)
        log.debug("compact list %s seq %d built: %d chunks", row.uri, row.seq, len(chunks))
        return Compact(row.uri, row.seq, row.iat, manifest, chunks, raw)
    return cache.get((row.uri, row.seq), make)


def delta(session: Session, cache: CompactCache, trust: TrustList, agency_id: str,
          key: PrivateKey | None, from_seq: int) -> tuple[bytes | None, int]:
    """(signed delta bytes from from_seq to the newest seq, newest seq), or (None, seq) when
    from_seq is the newest already."""
    key = _signing_key(key, agency_id)
    cur = current(session, cache, trust, agency_id, key)
    if from_seq == cur.seq:
        return None, cur.seq
    if from_seq > cur.seq:
        raise NotFound(f"seq {from_seq} is newer than the newest ({cur.seq}) / 序号超前")
    old = _raw(_row(session, agency_id, from_seq), trust)
    diff = compact.changes(old, cur.raw)
    return compact.build_delta(key, cur.uri, from_seq, cur.seq, cur.iat, diff), cur.seq
