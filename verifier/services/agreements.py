"""Service agreements (合同) and the visits that match them.

The agency records an agreement for one of its workers: a service type from its catalogue, the
household's pseudonym (from a visit receipt or the console's visit list) or a free reference
when the household has no pseudonym yet, a first day, a term in months and the agreed hours
per week. A visit matches an agreement when the worker, the service type and the agency agree,
its arrival falls in the term, and

- the agreement names the visit's household, or
- it names no household and is the only such agreement of that worker and service type in
  force (two reference-only agreements of one worker for one service type stay ambiguous:
  their visits match neither until the agency names a household).

Matching happens at arrival (`match`) and, for visits confirmed before the agreement was
recorded or a household was named, when it is (`rematch`). The monthly report compares each
agreement's verified hours with its agreed hours for the period (`period_summary`).
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from host.localtime import day_start

from ..models import Agreement, Household, Visit
from . import audit, fields, registry
from .errors import BadRequest, NotFound
from .periods import bounds

log = logging.getLogger(__name__)

TERM_MAX_MONTHS = 60
HOURS_MAX = 84                   # 12 hours a day, every day
REFERENCE_MAX = 64


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y, m = d.year + y, m + 1
    last = (date(y + (m == 12), m % 12 + 1, 1) - date(y, m, 1)).days
    return date(y, m, min(d.day, last))


def _int(text: object, low: int, high: int, what: str) -> int:
    try:
        n = int(str(text).strip())
    except (TypeError, ValueError) as err:
        raise BadRequest(f"{what} must be a whole number", reason="bad_agreement") from err
    if not low <= n <= high:
        raise BadRequest(f"{what} must be {low} to {high}", reason="bad_agreement")
    return n


def _minutes(hours: object) -> int:
    h = fields.number(hours, "hours_per_week", HOURS_MAX, "bad_agreement")
    return int((h * 60).to_integral_value())


def household_by_pseudonym(session: Session, pseudonym: str | None) -> Household | None:
    p = (pseudonym or "").strip().upper()
    if not p:
        return None
    h = session.scalar(select(Household).where(Household.pseudonym == p))
    if h is None:
        raise BadRequest(f"no household {p}", reason="unknown_household")
    return h


def create(session: Session, agency_id: str, worker_ref: str, household: str | None,
           reference: str | None, service_type: str | None, first_day: str | None,
           term_months: object, hours_per_week: object, services: tuple[str, ...], now: int,
           actor: str, tz: str) -> Agreement:
    """Record an agreement (BadRequest with a reason when a field is wrong), audit it, and
    match the visits already confirmed in its term."""
    registry.active_worker(session, agency_id, worker_ref)
    if service_type not in services:
        raise BadRequest(f"unknown service type {service_type!r}", reason="bad_service_type")
    h = household_by_pseudonym(session, household)
    reference = fields.text(reference, "reference", REFERENCE_MAX, "bad_agreement",
                            required=False)
    if h is None and reference is None:
        raise BadRequest("name the household (pseudonym) or give a reference",
                         reason="bad_agreement")
    term = _int(term_months, 1, TERM_MAX_MONTHS, "the term in months")
    d = fields.day(first_day, "first_day", "bad_date")
    start, end = day_start(d, tz), day_start(_add_months(d, term), tz)
    a = Agreement(agency_id=agency_id, worker_ref=worker_ref,
                  household_id=h.id if h else None, reference=reference,
                  service_type=service_type, start_at=start, end_at=end, term_months=term,
                  minutes_per_week=_minutes(hours_per_week), created_at=now,
                  created_by=actor)
    session.add(a)
    session.flush()
    audit.append(session, actor, "agreement.create", a.id, now, agency_id=agency_id,
                 worker_ref=worker_ref, service_type=service_type, term_months=term,
                 minutes_per_week=a.minutes_per_week,
                 household=h.pseudonym if h else None)
    n = rematch(session, a)
    log.info("agreement %d recorded for agency %s (%d earlier visit(s) matched)", a.id,
             agency_id, n)
    return a


def name_household(session: Session, agency_id: str, agreement_id: int, pseudonym: str,
                   now: int, actor: str) -> Agreement:
    """Name the household of a reference-only agreement, then match its visits."""
    a = get(session, agency_id, agreement_id)
    h = household_by_pseudonym(session, pseudonym)
    if h is None:
        raise BadRequest("name the household (pseudonym)", reason="bad_agreement")
    if a.household_id is not None:
        raise BadRequest("this agreement already names a household",
                         reason="household_named")
    a.household_id = h.id
    audit.append(session, actor, "agreement.household", a.id, now, agency_id=agency_id,
                 household=h.pseudonym)
    session.flush()
    rematch(session, a)
    return a


def one(session: Session, agency_id: str, agreement_id: int) -> dict[str, Any]:
    """One agreement of the agency as `for_agency` lists it; NotFound otherwise."""
    rows = for_agency(session, agency_id, agreement_id=agreement_id)
    if not rows:
        raise NotFound("no such agreement in this agency")
    return rows[0]


def get(session: Session, agency_id: str, agreement_id: int) -> Agreement:
    a = session.get(Agreement, agreement_id)
    if a is None or a.agency_id != agency_id:
        raise NotFound("no such agreement in this agency")
    return a


def _in_force(agency_id: str, worker_ref: str, service_type: str, at: int) -> Any:
    return select(Agreement).where(Agreement.agency_id == agency_id,
                                   Agreement.worker_ref == worker_ref,
                                   Agreement.service_type == service_type,
                                   Agreement.start_at <= at, Agreement.end_at > at)


def match(session: Session, v: Visit) -> Agreement | None:
    """The agreement the visit falls under (module docstring), or None; sets agreement_id."""
    q = _in_force(v.agency_id, v.worker_ref, v.service_type, v.start_at)
    own = session.scalars(q.where(Agreement.household_id == v.household_id)
                          .order_by(Agreement.start_at.desc())).first()
    if own is None:
        loose = list(session.scalars(q.where(Agreement.household_id.is_(None)).limit(2)))
        own = loose[0] if len(loose) == 1 else None
    v.agreement_id = own.id if own is not None else None
    return own


def rematch(session: Session, a: Agreement) -> int:
    """Match the unmatched visits in the agreement's term (after it was recorded or its
    household named); the number matched to it."""
    q = select(Visit).where(Visit.agency_id == a.agency_id, Visit.worker_ref == a.worker_ref,
                            Visit.service_type == a.service_type,
                            Visit.start_at >= a.start_at, Visit.start_at < a.end_at,
                            or_(Visit.agreement_id.is_(None), Visit.agreement_id == a.id))
    if a.household_id is not None:
        q = q.where(Visit.household_id == a.household_id)
    n = 0
    for v in session.scalars(q):
        if match(session, v) is a:
            n += 1
    session.flush()
    return n


def for_agency(session: Session, agency_id: str, worker_ref: str | None = None,
               agreement_id: int | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Agreements (newest first) with their household pseudonym and verified visits so far."""
    counts = (select(Visit.agreement_id, func.count(Visit.id).label("n"))
              .where(Visit.agency_id == agency_id, Visit.agreement_id.is_not(None))
              .group_by(Visit.agreement_id).subquery())
    q = (select(Agreement, Household.pseudonym, counts.c.n)
         .outerjoin(Household, Household.id == Agreement.household_id)
         .outerjoin(counts, counts.c.agreement_id == Agreement.id)
         .where(Agreement.agency_id == agency_id))
    if worker_ref:
        q = q.where(Agreement.worker_ref == worker_ref)
    if agreement_id is not None:
        q = q.where(Agreement.id == agreement_id)
    return [{"agreement": a, "household": p, "visits": n or 0}
            for a, p, n in session.execute(q.order_by(Agreement.id.desc()).limit(limit))]


def duration(v: Visit) -> int:
    return (v.end_at - v.start_at) if v.end_at is not None else 0


def period_summary(session: Session, agency_id: str, period: str, tz: str,
                   start_day: int) -> list[dict[str, Any]]:
    """Per agreement in force during the period: agreed minutes for the days of the period
    it covers (minutes per week × days / 7), verified visits and minutes of closed visits
    that began in the period, and their share of the agreed time; then one row (agreement
    None) for the period's visits that match no agreement."""
    start, end = bounds(period, tz, start_day)
    rows = session.execute(
        select(Agreement, Household.pseudonym)
        .outerjoin(Household, Household.id == Agreement.household_id)
        .where(Agreement.agency_id == agency_id, Agreement.start_at < end,
               Agreement.end_at > start).order_by(Agreement.worker_ref, Agreement.id))
    visits = list(session.scalars(select(Visit).where(
        Visit.agency_id == agency_id, Visit.start_at >= start, Visit.start_at < end)))
    by_agreement: dict[int | None, list[Visit]] = {}
    for v in visits:
        by_agreement.setdefault(v.agreement_id, []).append(v)
    out = []
    for a, pseudonym in rows:
        days = (min(a.end_at, end) - max(a.start_at, start)) / 86400
        agreed = round(a.minutes_per_week * days / 7)
        mine = by_agreement.get(a.id, [])
        done = sum(duration(v) for v in mine) // 60
        out.append({"agreement": a, "household": pseudonym, "worker_ref": a.worker_ref,
                    "service_type": a.service_type, "agreed_min": agreed,
                    "visits": len(mine), "verified_min": done,
                    "share": (done / agreed) if agreed else None})
    loose = by_agreement.get(None, [])
    if loose:
        out.append({"agreement": None, "household": None, "worker_ref": None,
                    "service_type": None, "agreed_min": 0, "visits": len(loose),
                    "verified_min": sum(duration(v) for v in loose) // 60, "share": None})
    return out
