"""Complaints as a process (docs/credit-rules.md "Complaints").

A complaint is filed with a review that has a category (services/reviews.py: from a verified
visit, or a consent view), minor or serious. Then:

1. the deadline: `DEADLINE_WORKDAYS` (7) working days on China's calendar after the filing day
   (services/workdays.py, with 调休 make-up days);
2. the worker may reply (until the complaint is closed);
3. the agency proposes an outcome, upheld / partly upheld / dismissed, with evidence notes.
   For a minor complaint within its deadline that is the decision (closed). A serious one
   goes to the bureau with the proposal (`escalated`, "serious"): the agency cannot dismiss,
   or decide, a serious complaint on its own;
4. any complaint still open at its deadline escalates ("overdue"; `escalate_overdue`, run
   whenever complaints are read and by `flask complaints-sweep`);
5. the bureau decides an escalated complaint; its decision is final.

The complainant follows it on a status page (`/complaints/<secret>`, the link given at
filing; only the secret's SHA-256 is stored). Every step is in the audit log. A closed
complaint stops counting as unresolved in the colour rules (its review's `resolved_at`).
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Complaint, Review
from . import audit, events, fields
from .errors import BadRequest, Conflict, Forbidden, NotFound
from .workdays import Calendar

log = logging.getLogger(__name__)

SEVERITIES = ("minor", "serious")
OUTCOMES = ("upheld", "partly_upheld", "dismissed")
DEADLINE_WORKDAYS = 7
NOTE_MAX = 1000


def status_hash(secret: str) -> str:
    return hashlib.sha256(("complaint:" + (secret or "")).encode()).hexdigest()


def _note(value: object, what: str) -> str | None:
    return fields.text(value, what, NOTE_MAX, "bad_complaint")


def _outcome(outcome: str | None, note: object) -> tuple[str, str | None]:
    """(outcome, note) when both are valid (BadRequest `bad_complaint` naming the field)."""
    if outcome is None or outcome not in OUTCOMES:
        raise BadRequest("outcome is upheld, partly_upheld or dismissed",
                         reason="bad_complaint", field="outcome")
    return outcome, _note(note, "note")


def file(session: Session, review: Review, severity: str | None, now: int, calendar: Calendar,
         tz: str, actor: str) -> tuple[Complaint, str]:
    """The process of a review's complaint; (complaint, the status link's secret)."""
    severity = severity or "minor"
    if severity not in SEVERITIES:
        raise BadRequest("severity is minor or serious", reason="bad_review")
    deadline = calendar.deadline(now, DEADLINE_WORKDAYS, tz)
    secret = secrets.token_urlsafe(24)
    c = Complaint(review_id=review.id, agency_id=review.agency_id,
                  worker_ref=review.worker_ref, severity=severity, state="open",
                  filed_at=now, deadline_at=deadline.at,
                  deadline_provisional=deadline.provisional, status_hash=status_hash(secret))
    session.add(c)
    session.flush()
    events.credit_changed(session, c.agency_id, c.worker_ref, now, "complaint")
    audit.append(session, actor, "complaint.file", c.id, now, agency_id=c.agency_id,
                 worker_ref=c.worker_ref, severity=severity, category=review.category,
                 deadline=deadline.day.isoformat())
    log.info("complaint %d filed (%s), due %s", c.id, severity, deadline.day.isoformat())
    return c, secret


def get(session: Session, agency_id: str | None, complaint_id: int) -> Complaint:
    """A complaint of the agency (any agency for agency_id None: the bureau)."""
    c = session.get(Complaint, complaint_id)
    if c is None or (agency_id is not None and c.agency_id != agency_id):
        raise NotFound("no such complaint")
    return c


def by_secret(session: Session, secret: str) -> Complaint:
    c = session.scalar(select(Complaint).where(Complaint.status_hash == status_hash(secret)))
    if c is None:
        raise NotFound("no complaint with this link", reason="unknown_complaint")
    return c


def _close(session: Session, c: Complaint, outcome: str, note: str | None, by: str,
           now: int) -> None:
    c.state, c.outcome, c.outcome_note, c.decided_by, c.decided_at = \
        "closed", outcome, note, by, now
    review = session.get(Review, c.review_id)
    assert review is not None
    review.resolved_at, review.resolved_by, review.resolution = now, by, note
    events.credit_changed(session, c.agency_id, c.worker_ref, now, "complaint")


def _escalate(session: Session, c: Complaint, why: str, now: int, actor: str) -> None:
    c.state, c.escalated_at, c.escalation = "escalated", now, why
    events.credit_changed(session, c.agency_id, c.worker_ref, now, "complaint")
    audit.append(session, actor, "complaint.escalate", c.id, now, agency_id=c.agency_id,
                 worker_ref=c.worker_ref, why=why)
    log.info("complaint %d escalated to the bureau (%s)", c.id, why)


def escalate_overdue(session: Session, now: int,
                     actor: str = "system:complaints-sweep") -> int:
    """Escalate every open complaint past its deadline; how many."""
    due = list(session.scalars(select(Complaint).where(Complaint.state == "open",
                                                       Complaint.deadline_at < now)))
    for c in due:
        _escalate(session, c, "overdue", now, actor)
    session.flush()
    return len(due)


def reply(session: Session, agency_id: str, complaint_id: int, text: object, now: int,
          actor: str) -> Complaint:
    """The worker's reply (entered in the console for now; replacing an earlier one)."""
    c = get(session, agency_id, complaint_id)
    if c.state == "closed":
        raise Conflict("the complaint is closed", reason="complaint_closed")
    c.reply, c.reply_at = _note(text, "reply"), now
    audit.append(session, actor, "complaint.reply", c.id, now, agency_id=agency_id,
                 worker_ref=c.worker_ref)
    session.flush()
    return c


def propose(session: Session, agency_id: str, complaint_id: int, outcome: str | None,
            note: object, now: int, actor: str) -> Complaint:
    """The agency's outcome: the decision of a minor complaint within its deadline, a
    proposal to the bureau for a serious one (module docstring)."""
    escalate_overdue(session, now)
    c = get(session, agency_id, complaint_id)
    outcome, evidence = _outcome(outcome, note)
    if c.state == "closed":
        raise Conflict("the complaint is closed", reason="complaint_closed")
    if c.state == "escalated":
        raise Forbidden("the bureau decides this complaint", reason="complaint_escalated")
    c.proposal, c.proposal_note, c.proposed_at = outcome, evidence, now
    audit.append(session, actor, "complaint.propose", c.id, now, agency_id=agency_id,
                 worker_ref=c.worker_ref, outcome=outcome, severity=c.severity)
    if c.severity == "serious":
        _escalate(session, c, "serious", now, actor)
    else:
        _close(session, c, outcome, evidence, "agency", now)
    session.flush()
    log.info("complaint %d: agency proposes %s (%s)", c.id, outcome, c.state)
    return c


def decide(session: Session, complaint_id: int, outcome: str | None, note: object, now: int,
           actor: str) -> Complaint:
    """The bureau's final decision of an escalated complaint."""
    escalate_overdue(session, now)
    c = get(session, None, complaint_id)
    outcome, reason = _outcome(outcome, note)
    if c.state != "escalated":
        raise Conflict(f"the complaint is {c.state}, not escalated",
                       reason="not_escalated" if c.state == "open" else "complaint_closed")
    _close(session, c, outcome, reason, "bureau", now)
    audit.append(session, actor, "complaint.decide", c.id, now, agency_id=c.agency_id,
                 worker_ref=c.worker_ref, outcome=outcome)
    session.flush()
    log.info("complaint %d decided by the bureau: %s", c.id, outcome)
    return c


def for_worker(session: Session, agency_id: str, worker_ref: str) -> dict[int, Complaint]:
    """The worker's complaints by review id."""
    return {c.review_id: c for c in session.scalars(select(Complaint).where(
        Complaint.agency_id == agency_id, Complaint.worker_ref == worker_ref))}


def escalated(session: Session, limit: int = 200) -> list[Complaint]:
    return list(session.scalars(select(Complaint).where(Complaint.state == "escalated")
                                .order_by(Complaint.escalated_at).limit(limit)))


def to_json(session: Session, c: Complaint) -> dict[str, Any]:
    """A complaint as the bureau's API shows it (no household, no comment author)."""
    r = session.get(Review, c.review_id)
    assert r is not None
    return {"id": c.id, "agency": c.agency_id, "worker_ref": c.worker_ref,
            "severity": c.severity, "category": r.category, "comment": r.comment,
            "state": c.state, "filed_at": c.filed_at, "deadline_at": c.deadline_at,
            "deadline_provisional": c.deadline_provisional, "reply": c.reply,
            "proposal": c.proposal, "proposal_note": c.proposal_note,
            "escalation": c.escalation, "escalated_at": c.escalated_at,
            "outcome": c.outcome, "outcome_note": c.outcome_note, "decided_by": c.decided_by,
            "decided_at": c.decided_at}
