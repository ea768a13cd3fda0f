"""Status indices for badges being provisioned (docs/verifier.md "Provisioning").

The technician's tool reserves an index for a new badge key before the agency signs a
credential carrying it, then registers the badge (which consumes the reservation) or gives the
index back: `free` when no credential with it was sent to a badge (the index may be handed
out again), `retired` when one may exist (never handed out again; revoked in the status list).

Index allocation is serialised per agency: `pg_advisory_xact_lock` on PostgreSQL (the key
status.publish uses too), `BEGIN IMMEDIATE` on SQLite. An index is new when it is above every
index any badge or reservation of the agency ever had, or the lowest `free` one.
"""
from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..models import Badge, StatusIndex
from . import audit
from .errors import BadRequest, Conflict, NotFound

log = logging.getLogger(__name__)

RESERVED, REGISTERED, FREE, RETIRED = "reserved", "registered", "free", "retired"
STATES = (RESERVED, REGISTERED, FREE, RETIRED)
_KID = re.compile(r"[0-9a-f]{16}")
_SERIAL = re.compile(r"[0-9A-F]{1,16}")


class IndexRegistered(Conflict):
    """The index belongs to a registered badge (its id and kid go into the answer)."""
    reason = "index_registered"

    def __init__(self, badge: Badge) -> None:
        self.badge_id, self.kid = badge.id, badge.kid
        super().__init__(f"status index {badge.status_idx} is registered to badge {badge.id} "
                         f"/ 该状态索引已登记给徽章 {badge.id}")


def kid_hex(value: object) -> str:
    k = value.lower() if isinstance(value, str) else None
    if k is None or not _KID.fullmatch(k):
        raise BadRequest("kid must be 16 hex digits (8 bytes)", reason="malformed")
    return k


def serial_hex(value: object) -> str:
    s = value.upper() if isinstance(value, str) else None
    if s is None or not _SERIAL.fullmatch(s):
        raise BadRequest("serial must be 1..16 hex digits", reason="malformed")
    return s


def index_value(value: object) -> int:
    if type(value) is not int or value < 0 or value >= 2 ** 62:
        raise BadRequest("status_idx must be a non-negative integer", reason="malformed")
    return value


def lock_agency(session: Session, agency_id: str) -> None:
    """Serialise index allocation for agency_id until the transaction ends."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:a))"), {"a": agency_id})


def next_index(session: Session, agency_id: str) -> int:
    """One above every index a badge or reservation of the agency ever had."""
    top_badge: int = session.execute(
        select(func.coalesce(func.max(Badge.status_idx), -1))
        .where(Badge.agency_id == agency_id)).scalar_one()
    top_res: int = session.execute(
        select(func.coalesce(func.max(StatusIndex.idx), -1))
        .where(StatusIndex.agency_id == agency_id)).scalar_one()
    return max(top_badge, top_res) + 1


def reservation_json(r: StatusIndex) -> dict[str, Any]:
    return {"status_idx": r.idx, "state": r.state, "kid": r.kid, "serial": r.serial,
            "reason": r.reason, "created_at": r.created_at, "updated_at": r.updated_at}


def reserve(session: Session, agency_id: str, kid: object, serial: object, now: int,
            actor: str) -> tuple[StatusIndex, bool]:
    """(StatusIndex, created): a reserved index for the badge key `kid`. Asking again for the
    same kid and serial returns the same reservation (a retry after a lost answer)."""
    kid, serial = kid_hex(kid), serial_hex(serial)
    lock_agency(session, agency_id)
    if session.scalar(select(Badge.id).where(Badge.kid == kid)) is not None:
        raise Conflict("a badge with this key is registered / 该密钥的徽章已登记",
                       reason="kid_registered")
    held = session.scalar(select(StatusIndex).where(StatusIndex.agency_id == agency_id,
                                                    StatusIndex.kid == kid,
                                                    StatusIndex.state == RESERVED))
    if held is not None:
        if held.serial != serial:
            raise Conflict(f"key {kid} is reserved for badge {held.serial}",
                           reason="index_reserved")
        return held, False
    row = session.scalar(select(StatusIndex).where(StatusIndex.agency_id == agency_id,
                                                   StatusIndex.state == FREE)
                         .order_by(StatusIndex.idx).limit(1))
    if row is None:
        row = StatusIndex(agency_id=agency_id, idx=next_index(session, agency_id),
                          created_at=now)
        session.add(row)
    row.state, row.kid, row.serial, row.reason, row.updated_at = RESERVED, kid, serial, None, now
    session.flush()
    audit.append(session, actor, "status_index.reserve", row.idx, now, agency_id=agency_id,
                 kid=kid, serial=serial)
    log.info("status index %d of agency %s reserved for kid %s, serial %s (by %s)", row.idx,
             agency_id, kid, serial, actor)
    return row, True


def release(session: Session, agency_id: str, idx: object, retire: object, reason: object,
            now: int, actor: str) -> StatusIndex:
    """Give back a reservation that was never registered: `retire` when a credential carrying
    it may exist (it was sent to a badge), else it becomes `free`."""
    idx = index_value(idx)
    if not isinstance(retire, bool):
        raise BadRequest("retire must be true or false", reason="malformed")
    if reason is not None and not isinstance(reason, str):
        raise BadRequest("reason must be text", reason="malformed")
    lock_agency(session, agency_id)
    badge = session.scalar(select(Badge).where(Badge.agency_id == agency_id,
                                               Badge.status_idx == idx))
    if badge is not None:
        raise IndexRegistered(badge)
    row = session.get(StatusIndex, (agency_id, idx))
    if row is None:
        raise NotFound(f"status index {idx} is not reserved / 该状态索引未被预留")
    if row.state != RESERVED:
        raise Conflict(f"status index {idx} is {row.state}, not reserved", reason="not_reserved")
    row.state = RETIRED if retire else FREE
    row.reason, row.updated_at = (reason or "released")[:500], now
    audit.append(session, actor, f"status_index.{row.state}", idx, now, agency_id=agency_id,
                 kid=row.kid, reason=row.reason)
    session.flush()
    log.info("status index %d of agency %s given back: %s (by %s)", idx, agency_id, row.state,
             actor)
    return row


def listing(session: Session, agency_id: str, state: str | None = None) -> list[StatusIndex]:
    if state is not None and state not in STATES:
        raise BadRequest(f"state must be one of {', '.join(STATES)}")
    q = select(StatusIndex).where(StatusIndex.agency_id == agency_id)
    if state is not None:
        q = q.where(StatusIndex.state == state)
    return list(session.scalars(q.order_by(StatusIndex.idx)))


def claim(session: Session, agency_id: str, idx: int, kid: str, serial: str,
          now: int) -> StatusIndex | None:
    """Registration of badge (kid, serial) with index idx: consume its reservation. An index
    reserved for another key, retired or given back is refused; an index that was never
    reserved (a credential issued elsewhere) is left to the badges' own constraints."""
    row = session.get(StatusIndex, (agency_id, idx))
    if row is None or row.state == REGISTERED:
        return None
    if row.state == RETIRED:
        raise Conflict(f"status index {idx} is retired and never used again / 该状态索引已作废",
                       reason="index_retired")
    if row.state == FREE:
        raise Conflict(f"status index {idx} was given back; reserve a new one",
                       reason="not_reserved")
    if row.kid != kid or row.serial != serial:
        raise Conflict(f"status index {idx} is reserved for another badge / 该状态索引已预留给"
                       "其他徽章", reason="index_reserved")
    row.state, row.updated_at = REGISTERED, now
    return row

