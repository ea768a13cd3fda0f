"""This verifier's own status lists: one per agency whose signing key it holds, built from the
badges' lifecycle states, signed, stored with seq + 1 and published at /sl/<agency>.

State -> 2-bit value: registered/active valid, suspended/lost suspended, revoked revoked; a
retired status index reservation (services/reservations.py) revoked.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from host import wire
from host.wire.keys import PrivateKey
from host.wire.status import StatusList, build_status_list

from ..models import Badge, StatusIndex, StatusListBlob
from .errors import NoStatusKey

if TYPE_CHECKING:
    from .trust import TrustStore

log = logging.getLogger(__name__)

STATE_BITS = {"registered": wire.VALID, "active": wire.VALID, "suspended": wire.SUSPENDED,
              "lost": wire.SUSPENDED, "revoked": wire.REVOKED}
MIN_ENTRIES = 1024


def status_uri(base_url: str, agency_id: str) -> str:
    return f"{base_url.rstrip('/')}/sl/{agency_id}"


def build_bits(session: Session, agency_id: str) -> StatusList:
    rows = [(idx, state) for idx, state in session.execute(
        select(Badge.status_idx, Badge.state).where(Badge.agency_id == agency_id))]
    # a retired reservation: a credential carrying it may exist on a badge never registered
    rows += [(idx, "revoked") for idx in session.scalars(select(StatusIndex.idx).where(
        StatusIndex.agency_id == agency_id, StatusIndex.state == "retired"))]
    size = MIN_ENTRIES
    top = max((idx for idx, _ in rows), default=0) + 1
    while size < top:
        size *= 2
    lst = StatusList(size)
    for idx, state in rows:
        if STATE_BITS[state]:
            lst.set(idx, STATE_BITS[state])
    return lst


def publish(session: Session, store: TrustStore, agency_id: str, key: PrivateKey | None,
            base_url: str, now: int, ttl: int, validity: int) -> bytes:
    """Sign and store the next list for agency_id; the caller commits and then refreshes the
    store. Returns the token bytes."""
    if key is None:
        raise NoStatusKey(f"no status signing key for {agency_id} (STATUS_KEY_DIR/"
                          f"{agency_id}.pem) / 缺少该机构的状态列表签名密钥")
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:a))"), {"a": agency_id})
    uri = status_uri(base_url, agency_id)
    seq = (session.scalar(select(func.max(StatusListBlob.seq))
                          .where(StatusListBlob.uri == uri)) or 0) + 1
    token = build_status_list(key, uri, build_bits(session, agency_id), seq, now,
                              now + validity, ttl)
    store.import_status_list(session, token, now, "system", own=True, agency_id=agency_id)
    log.info("status list published: %s seq %d (ttl %d s, valid %d s)", uri, seq, ttl,
             validity)
    return token


def latest_token(session: Session, agency_id: str) -> bytes | None:
    return session.scalar(select(StatusListBlob.token)
                          .where(StatusListBlob.agency_id == agency_id)
                          .order_by(StatusListBlob.seq.desc()).limit(1))
