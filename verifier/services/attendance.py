"""The monthly attendance ledger: who checked in during a period, who is missing, and one
worker's history."""
from __future__ import annotations

import base64
import binascii
from typing import Any

from sqlalchemy import CompoundSelect, and_, exists, select, union
from sqlalchemy.orm import Session

from ..models import Attendance, Worker
from .errors import BadRequest, NotFound
from .periods import bounds

MAX_PAGE = 5000


def _row(a: Attendance) -> dict[str, Any]:
    return {"period": a.period, "first_at": a.first_at, "last_at": a.last_at,
            "first_terminal": a.first_terminal, "last_terminal": a.last_terminal,
            "count": a.count}


def report(session: Session, agency_id: str, period: str, tz: str, start_day: int,
           limit: int | None = None) -> dict[str, Any]:
    """Present and missing workers of an agency for a period. Missing: active workers
    registered before the period ended with no check-in in it."""
    _, end = bounds(period, tz, start_day)
    present = [{"worker_ref": ref, "worker_id": wid, **_row(a)} for a, ref, wid in
               session.execute(select(Attendance, Attendance.worker_ref, Worker.id)
                               .outerjoin(Worker, and_(Worker.agency_id == Attendance.agency_id,
                                                       Worker.worker_ref == Attendance.worker_ref))
                               .where(Attendance.agency_id == agency_id,
                                      Attendance.period == period)
                               .order_by(Attendance.worker_ref).limit(limit))]
    missing_q = (select(Worker.id, Worker.worker_ref, Worker.name)
                 .outerjoin(Attendance, and_(Attendance.agency_id == Worker.agency_id,
                                             Attendance.worker_ref == Worker.worker_ref,
                                             Attendance.period == period))
                 .where(Worker.agency_id == agency_id, Worker.state == "active",
                        Worker.created_at < end, Attendance.id.is_(None))
                 .order_by(Worker.worker_ref).limit(limit))
    missing = [{"worker_id": wid, "worker_ref": ref, "name": name}
               for wid, ref, name in session.execute(missing_q)]
    return {"agency": agency_id, "period": period, "present": present, "missing": missing,
            "present_count": len(present), "missing_count": len(missing)}


def report_refs(agency_id: str, period: str, tz: str, start_day: int) -> CompoundSelect:
    """The worker_refs `report` (and the export) lists, present or missing, as one select:
    what the disclosure log records an export for in a single INSERT … SELECT."""
    _, end = bounds(period, tz, start_day)
    return union(select(Attendance.worker_ref).where(Attendance.agency_id == agency_id,
                                                     Attendance.period == period),
                 select(Worker.worker_ref).where(Worker.agency_id == agency_id,
                                                 Worker.state == "active",
                                                 Worker.created_at < end))


def encode_cursor(period: str, worker_id: int) -> str:
    """An opaque keyset cursor: the period and the last worker id of the page."""
    return base64.urlsafe_b64encode(f"{period}:{worker_id}".encode()).rstrip(b"=").decode()


def decode_cursor(cursor: str, period: str) -> int:
    """The worker id after which the next page starts; BadRequest('bad_cursor') for a
    malformed cursor or one from another period."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        cur_period, wid = text.split(":")
        wid = int(wid)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as err:
        raise BadRequest("malformed cursor", reason="bad_cursor") from err
    if cur_period != period or wid < 0:
        raise BadRequest("cursor belongs to another period", reason="bad_cursor")
    return wid


def missing_page(session: Session, agency_id: str, period: str, tz: str, start_day: int,
                 limit: int = 500, cursor: str | None = None) -> dict[str, Any]:
    """One page of the active workers registered before the period ended with no check-in in
    it, ordered by worker id (keyset: ix_workers_active, then one probe per worker into the
    attendance unique index). `next_cursor` is None on the last page."""
    if not 1 <= limit <= MAX_PAGE:
        raise BadRequest(f"limit must be 1..{MAX_PAGE}")
    after = decode_cursor(cursor, period) if cursor else 0
    _, end = bounds(period, tz, start_day)
    present = exists().where(Attendance.agency_id == Worker.agency_id,
                             Attendance.period == period,
                             Attendance.worker_ref == Worker.worker_ref)
    rows = session.execute(select(Worker.id, Worker.worker_ref, Worker.name)
                           .where(Worker.agency_id == agency_id, Worker.state == "active",
                                  Worker.id > after, Worker.created_at < end, ~present)
                           .order_by(Worker.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    return {"agency": agency_id, "period": period,
            "missing": [{"worker_id": wid, "worker_ref": ref, "name": name}
                        for wid, ref, name in rows],
            "next_cursor": encode_cursor(period, rows[-1][0]) if more else None}


def history(session: Session, agency_id: str, worker_id: int) -> dict[str, Any]:
    w = session.get(Worker, worker_id)
    if w is None or w.agency_id != agency_id:
        raise NotFound("no such worker in this agency")
    rows = session.scalars(select(Attendance).where(Attendance.agency_id == agency_id,
                                                    Attendance.worker_ref == w.worker_ref)
                           .order_by(Attendance.period))
    return {"worker_id": w.id, "worker_ref": w.worker_ref, "periods": [_row(a) for a in rows]}
