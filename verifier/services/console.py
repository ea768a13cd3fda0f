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
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..models import AuditEntry, Badge, Checkin, Terminal, Worker
from ..models import WorkerProfile
from . import agreements, attendance, audit, registry, reviews, signals, visits
from .errors import BadRequest

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


def worker_page(session: Session, agency_id: str, worker_id: int, now: int) -> dict[str, Any]:
    w = registry.get_worker(session, agency_id, worker_id)
    badges = registry.badges_of(session, w.id)
    return {"worker": w, "profile": session.get(WorkerProfile, w.id),
            "certificates": certificates(session.get(WorkerProfile, w.id)),
            "badges": badges, "serials": {b.id: b.serial for b in badges},
            "elsewhere": registry.live_elsewhere(session, w.person_id, agency_id),
            "lifecycle": lifecycle(session, agency_id, [b.id for b in badges]),
            "history": attendance.history(session, agency_id, w.id)["periods"],
            "reviews": reviews.for_worker(session, agency_id, w.worker_ref),
            "open_complaints": reviews.open_complaints(session, agency_id, w.worker_ref, now),
            "served": visits.history(session, agency_id, w.worker_ref, w.person_id),
            "visits": visits.for_worker(session, agency_id, w.worker_ref, limit=10)[0],
            "agreements": agreements.for_agency(session, agency_id, w.worker_ref),
            "signals": signals.count_for(session, agency_id, w.worker_ref)}


def certificates(profile: WorkerProfile | None) -> list[dict[str, Any]]:
    if profile is None:
        return []
    try:
        items = json.loads(profile.certificates or "[]")
    except ValueError:
        return []
    return [c for c in items if isinstance(c, dict)]


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


def parse_day(text: str | None, tz: str) -> int | None:
    """'YYYY-MM-DD' -> Unix time of the end of that day in tz; '' -> None."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        d = date.fromisoformat(text)
    except ValueError as err:
        raise BadRequest("dates are YYYY-MM-DD", reason="bad_date") from err
    return int(datetime.combine(d, time(23, 59, 59), ZoneInfo(tz)).timestamp())


def parse_certificates(text: str | None) -> list[dict[str, str]]:
    """'name:level' per line -> [{"name", "level"}] (at most 20)."""
    out = []
    for line in (text or "").splitlines():
        name, _, level = line.partition(":")
        if not name.strip():
            continue
        if len(name) > 60 or len(level) > 30:
            raise BadRequest("a certificate line is too long", reason="bad_certificate")
        out.append({"name": name.strip(), "level": level.strip()})
    if len(out) > 20:
        raise BadRequest("at most 20 certificates", reason="bad_certificate")
    return out


def set_profile(session: Session, agency_id: str, worker_id: int, now: int, actor: str,
                certificates: list[dict[str, str]] | None = None,
                health_check_until: int | None = None, insurance_until: int | None = None,
                credit_grade: str | None = None) -> WorkerProfile:
    """Create or replace the profile a consent view shows."""
    w = registry.get_worker(session, agency_id, worker_id)
    grade = (credit_grade or "").strip() or None
    if grade is not None and len(grade) > 8:
        raise BadRequest("credit grade: at most 8 characters", reason="bad_grade")
    p = session.get(WorkerProfile, w.id)
    if p is None:
        p = WorkerProfile(worker_id=w.id)
        session.add(p)
    p.certificates = json.dumps(certificates or [], ensure_ascii=False)
    p.health_check_until, p.insurance_until = health_check_until, insurance_until
    p.credit_grade, p.updated_at = grade, now
    audit.append(session, actor, "worker.profile", w.id, now, agency_id=agency_id,
                 health_check_until=health_check_until, insurance_until=insurance_until,
                 credit_grade=grade, certificates=len(certificates or []))
    session.flush()
    log.info("worker %d profile updated (agency %s, by %s)", w.id, agency_id, actor)
    return p
