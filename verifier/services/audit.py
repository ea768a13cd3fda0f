"""The append-only, hash-chained audit log.

entry.hash = SHA-256(prev_hash || canonical JSON of (at, actor, action, agency_id, subject,
detail)); the first entry's prev_hash is 64 zeros. `prev_hash` is unique, so two writers that
read the same tail cannot both append (PostgreSQL additionally serialises appends with a
transaction-scoped advisory lock; SQLite writers are serialised by BEGIN IMMEDIATE).
"""
from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ..models import AuditEntry

log = logging.getLogger(__name__)

GENESIS = "0" * 64
_LOCK_ID = 0x78696E6B61      # "xinka"


def _digest(prev: str, at: int, actor: str, action: str, agency_id: str | None, subject: str,
            detail: str) -> str:
    body = json.dumps([at, actor, action, agency_id, subject, detail], sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(prev.encode() + body.encode()).hexdigest()


def append(session: Session, actor: str, action: str, subject: object, now: int,
           agency_id: str | None = None, **detail: Any) -> AuditEntry:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
    prev = session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1))
    prev = prev or GENESIS
    detail_text = json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str)
    entry = AuditEntry(at=now, actor=actor, action=action, agency_id=agency_id,
                       subject=str(subject), detail=detail_text, prev_hash=prev,
                       hash=_digest(prev, now, actor, action, agency_id, str(subject),
                                    detail_text))
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session) -> tuple[bool, int, int | None]:
    """(ok, number of entries, id of the first bad entry or None)."""
    prev, n = GENESIS, 0
    for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id)):
        n += 1
        if e.prev_hash != prev or e.hash != _digest(prev, e.at, e.actor, e.action,
                                                    e.agency_id, e.subject, e.detail):
            log.warning("audit chain broken at entry %d (%d entries checked)", e.id, n)
            return False, n, e.id
        prev = e.hash
    return True, n, None


def entries(session: Session, agency_id: str | None = None,
            limit: int = 100) -> list[dict[str, Any]]:
    q = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if agency_id is not None:
        q = q.where(AuditEntry.agency_id == agency_id)
    return [dict(id=e.id, at=e.at, actor=e.actor, action=e.action, agency_id=e.agency_id,
                 subject=e.subject, detail=json.loads(e.detail), hash=e.hash)
            for e in session.scalars(q)]
