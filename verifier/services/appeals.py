"""The worker's appeals (docs/credit-rules.md "Appeals"): of the current grade, a record, a
complaint's outcome or a review. Filed for the worker (at the agency's desk in the console,
until the worker's own page exists), decided by the bureau, kept with the outcome.

An upheld appeal takes its inputs out of the credit rules (`set_aside`): the record (it is
also withdrawn, with the appeal as the reason), the complaint, the review; an upheld appeal of
the grade names which of that grade's reasons it sets aside. The grade is recomputed in the
same transaction (a credit event). One appeal per target; every step is audited.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Appeal, Complaint, CreditGrade, CreditRecord, Review
from . import audit, events, fields, records, registry
from .errors import BadRequest, Conflict, NotFound

log = logging.getLogger(__name__)

TARGETS = ("grade", "record", "complaint", "review")
OUTCOMES = ("upheld", "rejected")
TEXT_MAX = 1000


def _bad(field: str, message: str) -> BadRequest:
    return fields.bad(field, message, "bad_appeal")


def parse_target(value: object) -> tuple[str, int]:
    """"record:7" -> ("record", 7); BadRequest `bad_appeal` (field target) otherwise."""
    kind, _, number = str(value or "").partition(":")
    if kind not in TARGETS or not number.isdigit():
        raise _bad("target", "choose what the appeal is about")
    return kind, int(number)


def _check_target(session: Session, agency_id: str, worker_ref: str, worker_id: int,
                  target: str, target_id: int) -> None:
    """The target belongs to this worker file and can be appealed."""
    if target == "grade":
        row = session.get(CreditGrade, target_id)
        ok = row is not None and row.worker_id == worker_id and row.rule_version != "staff"
    elif target == "record":
        rec = session.get(CreditRecord, target_id)
        ok = rec is not None and (rec.agency_id, rec.worker_ref) == (agency_id, worker_ref) \
            and rec.state != "withdrawn"
    elif target == "complaint":
        c = session.get(Complaint, target_id)
        ok = c is not None and (c.agency_id, c.worker_ref) == (agency_id, worker_ref) \
            and c.state == "closed" and c.outcome in ("upheld", "partly_upheld")
    else:
        r = session.get(Review, target_id)
        ok = r is not None and (r.agency_id, r.worker_ref) == (agency_id, worker_ref)
    if not ok:
        raise _bad("target", f"no {target} {target_id} of this worker that can be appealed")


def file(session: Session, agency_id: str, worker_ref: str, target_value: object,
         grounds: object, now: int, actor: str) -> Appeal:
    """The worker's appeal; BadRequest `bad_appeal` naming the field, Conflict
    `appeal_exists` when the target already has one."""
    worker = registry.active_worker(session, agency_id, worker_ref)
    target, target_id = parse_target(target_value)
    text = fields.text(grounds, "grounds", TEXT_MAX, "bad_appeal") or ""
    _check_target(session, agency_id, worker_ref, worker.id, target, target_id)
    if session.scalar(select(Appeal.id).where(Appeal.agency_id == agency_id,
                                              Appeal.worker_ref == worker_ref,
                                              Appeal.target == target,
                                              Appeal.target_id == target_id)) is not None:
        raise Conflict(f"this {target} has already been appealed", reason="appeal_exists")
    a = Appeal(agency_id=agency_id, worker_ref=worker_ref, target=target,
               target_id=target_id, grounds=text, filed_at=now, filed_by=actor, state="open")
    session.add(a)
    session.flush()
    audit.append(session, actor, "appeal.file", a.id, now, agency_id=agency_id,
                 worker_ref=worker_ref, target=target, target_id=target_id)
    log.info("appeal %d filed (%s %d)", a.id, target, target_id)
    return a


def _grade_refs(session: Session, a: Appeal) -> set[str]:
    row = session.get(CreditGrade, a.target_id)
    assert row is not None
    return {r["ref"] for r in json.loads(row.reasons or "[]") if r.get("ref")}


def decide(session: Session, appeal_id: int, outcome: str | None, note: object,
           set_aside: object, now: int, actor: str) -> Appeal:
    """The bureau's decision: upheld (its inputs set aside) or rejected; final."""
    a = session.get(Appeal, appeal_id)
    if a is None:
        raise NotFound("no such appeal")
    if a.state != "open":
        raise Conflict("the appeal is decided", reason="appeal_closed")
    if outcome not in OUTCOMES:
        raise _bad("outcome", "upheld or rejected")
    text = fields.text(note, "note", TEXT_MAX, "bad_appeal", required=False)
    refs: list[str] = []
    if outcome == "upheld":
        if a.target == "grade":
            wanted = set_aside if isinstance(set_aside, list) else []
            refs = sorted({str(r) for r in wanted})
            if not refs or not set(refs) <= _grade_refs(session, a):
                raise _bad("set_aside", "name the reasons of the grade that are set aside")
        else:
            refs = [f"{a.target}:{a.target_id}"]
        for ref in refs:
            kind, _, number = ref.partition(":")
            rec = session.get(CreditRecord, int(number)) if kind == "record" else None
            if rec is not None and rec.state != "withdrawn":
                records.withdraw(session, rec.agency_id, rec.id,
                                 f"appeal {a.id} upheld" + (f": {text}" if text else ""),
                                 now, actor)
    a.state, a.decided_by, a.decided_at, a.decision_note = outcome, actor, now, text
    a.set_aside = json.dumps(refs)
    session.flush()
    audit.append(session, actor, "appeal.decide", a.id, now, agency_id=a.agency_id,
                 worker_ref=a.worker_ref, outcome=outcome, set_aside=refs)
    events.credit_changed(session, a.agency_id, a.worker_ref, now, "appeal")
    log.info("appeal %d %s", a.id, outcome)
    return a


def for_worker(session: Session, agency_id: str, worker_ref: str) -> list[Appeal]:
    return list(session.scalars(select(Appeal).where(
        Appeal.agency_id == agency_id, Appeal.worker_ref == worker_ref)
        .order_by(Appeal.id.desc())))


def waiting(session: Session, limit: int = 200) -> list[Appeal]:
    """The bureau's queue: open appeals, oldest first."""
    return list(session.scalars(select(Appeal).where(Appeal.state == "open")
                                .order_by(Appeal.filed_at, Appeal.id).limit(limit)))


def to_json(a: Appeal) -> dict[str, Any]:
    return {"id": a.id, "agency_id": a.agency_id, "worker_ref": a.worker_ref,
            "target": a.target, "target_id": a.target_id, "grounds": a.grounds,
            "filed_at": a.filed_at, "state": a.state,
            "set_aside": json.loads(a.set_aside or "[]"), "decided_at": a.decided_at,
            "decision_note": a.decision_note}
