"""An agency's proposal that the bureau ban one of its workers (the credit plan: bans are the
bureau's decision; an agency that learns of a theft, an abuse or a false identity reports it
with the legal basis and its evidence). A ban is of a person across every agency, so the worker
must be enrolled (services/persons.py); one open proposal per person and agency. The bureau
accepts it, and the ban is made exactly as `POST /api/v1/bureau/bans` makes it (services/
bans.py, the proposal then names it), or rejects it with a note; the agency sees the outcome
on the worker's page. Every step is in the audit log: ban.propose, ban.proposal_accept (then
ban.create and ban.start), ban.proposal_reject.
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import BanProposal, Person, Worker
from . import audit, bans, fields, registry
from .errors import BadRequest, Conflict, NotFound

log = logging.getLogger(__name__)

OPEN, ACCEPTED, REJECTED = "open", "accepted", "rejected"
TEXT_MAX = 2000
REASON = "bad_ban_proposal"


def propose(session: Session, agency_id: str, worker_id: int, d: Any, now: int,
            actor: str) -> BanProposal:
    """The agency's proposal: {category, legal_basis, evidence}. Refused whole on a bad field,
    for a worker not enrolled, and while one of this person's proposals by this agency waits."""
    w = registry.get_worker(session, agency_id, worker_id)
    if w.person_id is None:
        raise Conflict("the worker is not enrolled (no ID number recorded): a ban is of a "
                       "person / 该服务员尚未登记身份证号，无法提请禁入", reason="not_enrolled")
    category = d.get("category")
    if category not in bans.CATEGORIES:
        raise BadRequest(f"category must be one of {', '.join(bans.CATEGORIES)}",
                         reason="bad_category")
    legal_basis = fields.text(d.get("legal_basis"), "legal_basis", TEXT_MAX, REASON)
    evidence = fields.text(d.get("evidence"), "evidence", TEXT_MAX, REASON)
    if session.scalar(select(BanProposal.id).where(
            BanProposal.agency_id == agency_id, BanProposal.person_id == w.person_id,
            BanProposal.state == OPEN)):
        raise Conflict("a proposal for this worker already waits for the bureau "
                       "/ 该服务员已有待商务局处理的禁入提请", reason="proposal_open")
    p = BanProposal(agency_id=agency_id, worker_ref=w.worker_ref, person_id=w.person_id,
                    category=category, legal_basis=legal_basis, evidence=evidence,
                    proposed_by=actor, proposed_at=now, state=OPEN)
    session.add(p)
    session.flush()
    audit.append(session, actor, "ban.propose", p.id, now, agency_id=agency_id,
                 worker_ref=w.worker_ref, category=category)
    log.info("ban proposal %d by agency %s (%s)", p.id, agency_id, category)
    return p


def get(session: Session, proposal_id: int) -> BanProposal:
    p = session.get(BanProposal, proposal_id)
    if p is None:
        raise NotFound("no such ban proposal / 无此禁入提请", reason="unknown_proposal")
    return p


def decide(session: Session, proposal_id: int, d: Any, now: int, actor: str,
           tz: str) -> tuple[BanProposal, bans.Change | None]:
    """The bureau's decision: {"accept": true, "decided_by", "appeal_route", optional
    "starts_at" / "ends_at"} makes the ban; {"accept": false, "note"} rejects."""
    p = get(session, proposal_id)
    if p.state != OPEN:
        raise Conflict(f"the proposal is {p.state} / 该提请已处理", reason="proposal_closed")
    accept = d.get("accept")
    if not isinstance(accept, bool):
        raise BadRequest("accept: true or false", reason=REASON)
    change = None
    if accept:
        person = session.get(Person, p.person_id)
        assert person is not None
        body = {"person_hash": person.person_hash, "category": p.category,
                "legal_basis": p.legal_basis, "decided_by": d.get("decided_by"),
                "appeal_route": d.get("appeal_route")}
        body.update({k: d[k] for k in ("starts_at", "ends_at") if k in d})
        change = bans.create(session, body, now, actor, tz)
        assert change.ban is not None
        p.ban_id = change.ban.id
        note = fields.text(d.get("note"), "note", TEXT_MAX, REASON, required=False)
    else:
        note = fields.text(d.get("note"), "note", TEXT_MAX, REASON)
    p.state, p.decided_by, p.decided_at, p.decision_note = \
        ACCEPTED if accept else REJECTED, actor, now, note
    audit.append(session, actor, f"ban.proposal_{'accept' if accept else 'reject'}", p.id, now,
                 agency_id=p.agency_id, worker_ref=p.worker_ref, ban_id=p.ban_id)
    session.flush()
    log.info("ban proposal %d %s (by %s)", p.id, p.state, actor)
    return p, change


def waiting(session: Session, limit: int = 200) -> list[BanProposal]:
    return list(session.scalars(select(BanProposal).where(BanProposal.state == OPEN)
                                .order_by(BanProposal.proposed_at).limit(limit)))


def for_worker(session: Session, agency_id: str, worker_ref: str) -> list[BanProposal]:
    return list(session.scalars(select(BanProposal).where(
        BanProposal.agency_id == agency_id, BanProposal.worker_ref == worker_ref)
        .order_by(BanProposal.id)))


def to_json(session: Session, p: BanProposal) -> dict[str, Any]:
    """As the bureau sees it: the person by hash, how many agencies hold a worker of that
    person, never a name or an ID number."""
    person = session.get(Person, p.person_id)
    assert person is not None
    agencies = session.scalar(select(func.count(func.distinct(Worker.agency_id))).where(
        Worker.person_id == p.person_id))
    return {"id": p.id, "agency_id": p.agency_id, "worker_ref": p.worker_ref,
            "person_hash": person.person_hash, "person_agencies": agencies or 0,
            "category": p.category, "legal_basis": p.legal_basis, "evidence": p.evidence,
            "proposed_by": p.proposed_by, "proposed_at": p.proposed_at, "state": p.state,
            "decided_by": p.decided_by, "decided_at": p.decided_at,
            "decision_note": p.decision_note, "ban_id": p.ban_id}

