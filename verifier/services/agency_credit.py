"""An agency's credit figures on the credit plan's four dimensions (docs/credit-rules.md
"Agency credit"), from what the service already holds; for the agency's console and, once the
bureau's console exists, the bureau:

- compliance: insurance coverage (active workers with a verified insurance in force), overdue
  complaints (escalated for missing the deadline) in the window;
- service quality: complaints per 100 active workers in the window, the share upheld (fully or
  partly) of those decided, the median handling time (filed to closed) in days;
- performance: the check-in rate of the current period (active workers registered before it
  ended who checked in at a terminal);
- social responsibility: verified training hours per active worker (records).

The window is the last `WINDOW_DAYS` (90) days, as for the colour rules' complaint count.
"""
from __future__ import annotations

import json
from statistics import median
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..models import Attendance, Complaint, CreditRecord, Worker
from . import complaints
from .periods import bounds, period_of

WINDOW_DAYS = 90
DAY = 86400


def figures(session: Session, agency_id: str, now: int, tz: str,
            start_day: int) -> dict[str, Any]:
    """The figures as of `now` (complaints past their deadline escalated first)."""
    complaints.escalate_overdue(session, now)
    active = session.scalar(select(func.count(Worker.id)).where(
        Worker.agency_id == agency_id, Worker.state == "active")) or 0
    since = now - WINDOW_DAYS * DAY
    rows = list(session.execute(select(Complaint.state, Complaint.outcome, Complaint.filed_at,
                                       Complaint.decided_at, Complaint.escalation)
                                .where(Complaint.agency_id == agency_id,
                                       Complaint.filed_at >= since)))
    decided = [r for r in rows if r.state == "closed" and r.decided_at is not None]
    upheld = [r for r in decided if r.outcome in ("upheld", "partly_upheld")]
    handling = [(r.decided_at - r.filed_at) / DAY for r in decided]
    period = period_of(now, tz, start_day)
    _, end = bounds(period, tz, start_day)
    eligible = (Worker.agency_id == agency_id, Worker.state == "active", Worker.created_at < end)
    registered = session.scalar(select(func.count(Worker.id)).where(*eligible)) or 0
    present = session.scalar(select(func.count(Worker.id)).join(Attendance, and_(
        Attendance.agency_id == Worker.agency_id, Attendance.worker_ref == Worker.worker_ref,
        Attendance.period == period)).where(*eligible)) or 0
    live = (CreditRecord.agency_id == agency_id, CreditRecord.state == "verified")
    insured = session.scalar(select(func.count(func.distinct(Worker.id))).join(
        CreditRecord, and_(CreditRecord.agency_id == Worker.agency_id,
                           CreditRecord.worker_ref == Worker.worker_ref)).where(
        Worker.agency_id == agency_id, Worker.state == "active", *live,
        CreditRecord.kind == "insurance", CreditRecord.valid_until >= now)) or 0
    training = sum(float(json.loads(d or "{}").get("hours", 0)) for d in session.scalars(
        select(CreditRecord.data).join(Worker, and_(
            Worker.agency_id == CreditRecord.agency_id,
            Worker.worker_ref == CreditRecord.worker_ref)).where(
            *live, Worker.state == "active", CreditRecord.kind == "training")))
    return {
        "agency": agency_id, "window_days": WINDOW_DAYS, "active_workers": active,
        "period": period,
        "compliance": {"insurance_coverage": _share(insured, active),
                       "overdue_complaints": sum(1 for r in rows if r.escalation == "overdue")},
        "service_quality": {"complaints": len(rows),
                            "complaints_per_100": (round(100 * len(rows) / active, 1)
                                                   if active else None),
                            "upheld_share": _share(len(upheld), len(decided)),
                            "median_handling_days": (round(median(handling), 1)
                                                     if handling else None),
                            "open": sum(1 for r in rows if r.state != "closed")},
        "performance": {"checkin_rate": _share(present, registered),
                        "checked_in": present, "registered": registered},
        "social_responsibility": {"training_hours_per_worker": (round(training / active, 1)
                                                               if active else None)},
    }


def _share(n: int, of: int) -> float | None:
    return round(n / of, 3) if of else None
