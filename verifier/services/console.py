"""What the agency console reads: workers and badges with search and cursor pagination, one
worker's page (profile, badge lifecycle, attendance, verified visits and agreements, reviews),
terminals with their last
upload, and the worker profile the consent view shows.

Cursor pagination: rows in id order, `after` = the last id of the previous page; a page asks
for one row more than it shows to know whether there is a next page.
"""
from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..models import AuditEntry, Badge, Checkin, Terminal, Worker
from . import (agreements, appeals, attendance, ban_proposals, complaints, grades, records,
               registry, reviews, signals, visits)

log = logging.getLogger(__name__)

PAGE_SIZE = 50


def _page(rows: list[Worker], limit: int) -> tuple[list[Worker], int | None]:
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].id if more and rows else None)


def _like(column: Any, q: str) -> Any:
    return column.contains(q, autoescape=True)


def search_workers(session: Session, agency_id: str, q: str | None = "",
                   after: int | None = None,
                   limit: int = PAGE_SIZE) -> tuple[list[Worker], int | None]:
    """(workers, next cursor) matching q in name, worker_ref, phone or a badge serial."""
    stmt = select(Worker).where(Worker.agency_id == agency_id)
    q = (q or "").strip()[:64]
    if q:
        serials = select(Badge.worker_id).where(Badge.agency_id == agency_id,
                                                _like(Badge.serial, q.upper()))
        stmt = stmt.where(or_(_like(Worker.name, q), _like(Worker.worker_ref, q),
                              _like(Worker.phone, q), Worker.id.in_(serials)))
    if after is not None:
        stmt = stmt.where(Worker.id > after)
    rows = list(session.scalars(stmt.order_by(Worker.id).limit(limit + 1)))
    return _page(rows, limit)


def worker_id_for_ref(session: Session, agency_id: str, worker_ref: str) -> int | None:
    return session.scalar(select(Worker.id).where(Worker.agency_id == agency_id,
                                                  Worker.worker_ref == worker_ref))


def badges_by_worker(session: Session, worker_ids: Sequence[int]) -> dict[int, list[Badge]]:
    out: dict[int, list[Badge]] = {}
    if worker_ids:
        for b in session.scalars(select(Badge).where(Badge.worker_id.in_(worker_ids))
                                 .order_by(Badge.id)):
            if b.worker_id is not None:              # always: selected by worker id
                out.setdefault(b.worker_id, []).append(b)
    return out


def search_badges(session: Session, agency_id: str, q: str | None = "", state: str = "",
                  after: int | None = None, limit: int = PAGE_SIZE
                  ) -> tuple[list[tuple[Badge, Worker | None]], int | None]:
    """([(badge, worker or None)], next cursor) by serial, kid or the worker's ref/name."""
    stmt = (select(Badge, Worker).outerjoin(Worker, Worker.id == Badge.worker_id)
            .where(Badge.agency_id == agency_id))
    q = (q or "").strip()[:64]
    if q:
        stmt = stmt.where(or_(_like(Badge.serial, q.upper()), _like(Badge.kid, q.lower()),
                              _like(Worker.worker_ref, q), _like(Worker.name, q)))
    if state:
        stmt = stmt.where(Badge.state == state)
    if after is not None:
        stmt = stmt.where(Badge.id > after)
    rows = list(session.execute(stmt.order_by(Badge.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return [(b, w) for b, w in rows], (rows[-1][0].id if more and rows else None)


def lifecycle(session: Session, agency_id: str,
              badge_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The audit entries of these badges, oldest first: the badge lifecycle."""
    if not badge_ids:
        return []
    rows = session.scalars(select(AuditEntry).where(
        AuditEntry.agency_id == agency_id, AuditEntry.action.like("badge.%"),
        AuditEntry.subject.in_([str(i) for i in badge_ids])).order_by(AuditEntry.id))
    out = []
    for e in rows:
        state = e.action[len("badge."):]
        out.append({"at": e.at, "actor": e.actor, "action": e.action, "badge_id": int(e.subject),
                    "state": "registered" if state == "register" else state,
                    "detail": json.loads(e.detail)})
    return out


def worker_page(session: Session, agency_id: str, worker_id: int, now: int,
                ctx: grades.Context) -> dict[str, Any]:
    w = registry.get_worker(session, agency_id, worker_id)
    badges = registry.badges_of(session, w.id)
    grade = grades.current(session, w, now, ctx) if w.state == "active" \
        else grades.latest(session, w.id)
    return {"worker": w, "grade": grades.view(grade),
            "grade_id": grade.id if grade is not None else None,
            "grade_history": grades.history(session, w.id),
            "appeals": appeals.for_worker(session, agency_id, w.worker_ref),
            "ban_proposals": ban_proposals.for_worker(session, agency_id, w.worker_ref),
            "records": records.for_worker(session, agency_id, w.worker_ref, now),
            "record_kinds": list(records.KINDS),
            "badges": badges, "serials": {b.id: b.serial for b in badges},
            "elsewhere": registry.live_elsewhere(session, w.person_id, agency_id),
            "lifecycle": lifecycle(session, agency_id, [b.id for b in badges]),
            "history": attendance.history(session, agency_id, w.id)["periods"],
            "reviews": reviews.for_worker(session, agency_id, w.worker_ref),
            "complaints": _complaints(session, agency_id, w.worker_ref, now),
            "open_complaints": reviews.open_complaints(session, agency_id, w.worker_ref, now),
            "served": visits.history(session, agency_id, w.worker_ref, w.person_id),
            "visits": visits.for_worker(session, agency_id, w.worker_ref, limit=10)[0],
            "agreements": agreements.for_agency(session, agency_id, w.worker_ref),
            "signals": signals.count_for(session, agency_id, w.worker_ref)}


def _complaints(session: Session, agency_id: str, worker_ref: str, now: int) -> dict:
    complaints.escalate_overdue(session, now)
    return complaints.for_worker(session, agency_id, worker_ref)


def terminals(session: Session, agency_id: str, now: int) -> list[dict[str, Any]]:
    """Each terminal with its last upload: received_at (last sync), the lag of that upload
    (received minus terminal time) and the age of the last sync."""
    last = (select(Checkin.terminal_id, func.max(Checkin.id).label("mid"))
            .where(Checkin.agency_id == agency_id).group_by(Checkin.terminal_id).subquery())
    rows = session.execute(select(Terminal, Checkin).outerjoin(last, last.c.terminal_id ==
                                                               Terminal.id)
                           .outerjoin(Checkin, Checkin.id == last.c.mid)
                           .where(Terminal.agency_id == agency_id).order_by(Terminal.id))
    out = []
    for t, c in rows:
        out.append({"terminal": t, "last_sync": c.received_at if c else None,
                    "lag_s": (c.received_at - c.seen_at) if c else None,
                    "since_s": (now - c.received_at) if c else None})
    return out
