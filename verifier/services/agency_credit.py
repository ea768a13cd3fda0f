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

from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Agency, Complaint
from . import aggregates, complaints

WINDOW_DAYS = 90
DAY = 86400


def figures(session: Session, agency_id: str, now: int, tz: str,
            start_day: int) -> dict[str, Any]:
    """The figures as of `now` (complaints past their deadline escalated first)."""
    return by_agency(session, now, tz, start_day, agency_id)[agency_id]


def by_agency(session: Session, now: int, tz: str, start_day: int,
              agency_id: str | None = None) -> dict[str, dict[str, Any]]:
    """agency -> its figures as of `now`, for every agency (or only `agency_id`): each count
    one query grouped by agency (services/aggregates.py)."""
    complaints.escalate_overdue(session, now)
    p = aggregates.Periods.of(now, tz, start_day)
    period = p.names[-1]
    # the check-in table of the month from the rollup, not the raw rows (services/rollup.py)
    month = aggregates.month(session, p, agency_id)
    records = aggregates.records(session, now, agency_id)
    since = now - WINDOW_DAYS * DAY
    filed: dict[str, list[Any]] = {}
    for r in session.execute(select(Complaint.agency_id, Complaint.state, Complaint.outcome,
                                    Complaint.filed_at, Complaint.decided_at,
                                    Complaint.escalation)
                             .where(Complaint.filed_at >= since,
                                    aggregates.mine(Complaint.agency_id, agency_id))):
        filed.setdefault(r.agency_id, []).append(r)
    ids = [agency_id] if agency_id is not None else \
        list(session.scalars(select(Agency.id).order_by(Agency.id)))
    out = {}
    for a in ids:
        m = month.get(a, {})
        active, registered = m.get("active_workers", 0), m.get("registered", 0)
        rows = filed.get(a, [])
        decided = [r for r in rows if r.state == "closed" and r.decided_at is not None]
        upheld = [r for r in decided if r.outcome in ("upheld", "partly_upheld")]
        handling = [(r.decided_at - r.filed_at) / DAY for r in decided]
        checked_in = m.get("checked_in", 0)
        held = records.get(a, {})
        insured = held.get(("insurance", None), 0)
        training = held.get(("training", None), 0)
        out[a] = {
            "agency": a, "window_days": WINDOW_DAYS, "active_workers": active,
            "period": period,
            "compliance": {"insurance_coverage": _share(insured, active),
                           "overdue_complaints": sum(1 for r in rows
                                                     if r.escalation == "overdue")},
            "service_quality": {"complaints": len(rows),
                                "complaints_per_100": (round(100 * len(rows) / active, 1)
                                                       if active else None),
                                "upheld_share": _share(len(upheld), len(decided)),
                                "median_handling_days": (round(median(handling), 1)
                                                         if handling else None),
                                "open": sum(1 for r in rows if r.state != "closed")},
            "performance": {"checkin_rate": _share(checked_in, registered),
                            "checked_in": checked_in, "registered": registered},
            "social_responsibility": {"training_hours_per_worker": (
                round(training / active, 1) if active else None)},
        }
    return out


def _share(n: int, of: int) -> float | None:
    return round(n / of, 3) if of else None
