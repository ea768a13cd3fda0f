"""Fraud signals of verified visits: recorded when seen, shown to the agency in the console,
never dropped. What each can and cannot tell: docs/threat-model.md "Verified visits".

Seen on a request (the visit is opened anyway unless the request itself is refused):
- `overlap`: an arrival while another household's visit of that badge is open (refused);
- `late_confirm`: an arrival confirmed more than `late_s` after the page of its tap was first
  shown (a link kept and used later, not a phone at the door);
- `many_workers`: one household key confirming visits of `many` or more workers of one
  agency within `days` days.

Patterns of a household once it has `pattern_min` visits of the agency, each weak on its own
and what a worker confirming their own visits with their own phone looks like:
- `one_worker_only`: every visit of the household is of one worker;
- `never_reviewed`: none of its visits has a review;
- `instant_confirm`: every confirmation came within `instant_s` of the page's first showing.

Household-level signals are recorded once per household, agency and kind.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import FraudSignal, Household, Review, Visit

log = logging.getLogger(__name__)

KINDS = ("overlap", "late_confirm", "many_workers", "one_worker_only", "never_reviewed",
         "instant_confirm")
PATTERNS = ("one_worker_only", "never_reviewed", "instant_confirm")


@dataclass(frozen=True)
class Thresholds:
    late_s: int = 300
    many: int = 4
    days: int = 30
    pattern_min: int = 6
    instant_s: int = 60

    @classmethod
    def of(cls, config: Any) -> Thresholds:
        """From FRAUD_THRESHOLDS; ValueError naming an unknown or non-integer entry (the
        verifier checks it at start)."""
        given = config.get("FRAUD_THRESHOLDS") or {}
        unknown = sorted(set(given) - set(cls.__dataclass_fields__))
        if unknown:
            raise ValueError(f"FRAUD_THRESHOLDS: unknown {', '.join(unknown)} / 未知阈值")
        try:
            return cls(**{k: int(v) for k, v in given.items()})
        except (TypeError, ValueError) as err:
            raise ValueError("FRAUD_THRESHOLDS values are whole numbers / 阈值须为整数") \
                from err


def record(session: Session, now: int, agency_id: str, kind: str,
           worker_ref: str | None = None, household_id: int | None = None,
           visit_id: int | None = None, detail: str = "") -> FraudSignal:
    s = FraudSignal(agency_id=agency_id, kind=kind, worker_ref=worker_ref,
                    household_id=household_id, visit_id=visit_id, detail=detail,
                    created_at=now)
    session.add(s)
    session.flush()
    log.info("fraud signal %s for agency %s", kind, agency_id)
    return s


def _once(session: Session, now: int, v: Visit, kind: str, detail: str) -> None:
    seen = session.scalar(select(FraudSignal.id).where(
        FraudSignal.agency_id == v.agency_id, FraudSignal.household_id == v.household_id,
        FraudSignal.kind == kind).limit(1))
    if seen is None:
        record(session, now, v.agency_id, kind, v.worker_ref, v.household_id, v.id, detail)


def after_arrival(session: Session, v: Visit, now: int, t: Thresholds) -> list[str]:
    """Record the signals an opened visit raises; their kinds."""
    raised = []
    if v.start_at - v.page_at > t.late_s:
        record(session, now, v.agency_id, "late_confirm", v.worker_ref, v.household_id, v.id,
               f"confirmed {v.start_at - v.page_at} s after the page was first shown")
        raised.append("late_confirm")
    mine = (Visit.agency_id == v.agency_id, Visit.household_id == v.household_id)
    workers = session.scalar(select(func.count(func.distinct(Visit.worker_ref))).where(
        *mine, Visit.start_at >= now - t.days * 86400)) or 0
    if workers >= t.many:
        _once(session, now, v, "many_workers",
              f"{workers} workers confirmed by one household in {t.days} days")
        raised.append("many_workers")
    n, distinct, slowest = session.execute(select(
        func.count(Visit.id), func.count(func.distinct(Visit.worker_ref)),
        func.max(Visit.start_at - Visit.page_at)).where(*mine)).one()
    if n >= t.pattern_min:
        reviewed = session.scalar(select(func.count(Review.id)).join(
            Visit, Visit.id == Review.visit_id).where(*mine)) or 0
        found = {"one_worker_only": distinct == 1, "never_reviewed": reviewed == 0,
                 "instant_confirm": (slowest or 0) <= t.instant_s}
        for kind in PATTERNS:
            if found[kind]:
                _once(session, now, v, kind, f"after {n} visits")
                raised.append(kind)
    return raised


def for_agency(session: Session, agency_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The agency's signals, newest first, with the household's pseudonym."""
    rows = session.execute(select(FraudSignal, Household.pseudonym)
                           .outerjoin(Household, Household.id == FraudSignal.household_id)
                           .where(FraudSignal.agency_id == agency_id)
                           .order_by(FraudSignal.id.desc()).limit(limit))
    return [{"signal": s, "household": p} for s, p in rows]


def count_for(session: Session, agency_id: str, worker_ref: str) -> int:
    return session.scalar(select(func.count(FraudSignal.id)).where(
        FraudSignal.agency_id == agency_id, FraudSignal.worker_ref == worker_ref)) or 0
