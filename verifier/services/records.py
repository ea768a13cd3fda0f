"""The worker's credit records with provenance (docs/credit-rules.md "Records").

A record is one typed fact about a worker's agency file: what it says (its kind's fields),
who vouches for it (its `source`: the checking body, issuer, insurer or training provider),
who entered it and when, its validity (issued on, valid until) and its state:

- `verified`: agency staff checked the original (who and when are kept);
- `self_declared`: the worker says so, nobody checked yet (staff may verify it later);
- `withdrawn`: taken back with a reason (kept, never shown, never counted);
- `expired` is not stored: a record whose valid-until day has passed shows and counts as
  expired.

Checks of the person (background, judicial enforcement, dishonesty) keep the result only,
never a detail of what was found. What a consent view shows follows the badge's scope bits:
certificates (1) skill certificates and training, health (2) the health certificate,
insurance (4) insurance, credit (16) the three checks. The colour rules need a health
certificate and an insurance in force (`required`): missing, expired or only self-declared
turns the page yellow with the reason (services/credit_rules.py). Every change is a credit
event (services/events.py): the grade is recomputed when the transaction commits.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from host.localtime import day_end, day_start
from host.wire.tap import SCOPE_CERTIFICATES, SCOPE_CREDIT, SCOPE_HEALTH, SCOPE_INSURANCE

from ..models import CreditRecord
from . import audit, events, fields, registry
from .errors import BadRequest, Conflict, NotFound

log = logging.getLogger(__name__)

STATES = ("verified", "self_declared", "withdrawn")

# the national occupational titles (国家职业分类大典) of the sector, and the five skill levels
TITLES = ("家政服务员", "育婴员", "保育员", "养老护理员", "母婴护理员", "健康照护师",
          "家务服务员", "整理收纳师", "营养配餐员", "中式烹调师")
LEVELS = ("五级", "四级", "三级", "二级", "一级")      # 初级工 … 高级技师
INSURANCE_TYPES = ("personal_accident", "liability", "employer")
CHECK_RESULTS = {"background_check": ("clear", "concerns"),
                 "judicial_check": ("none_found", "found"),
                 "dishonesty_check": ("none_found", "listed")}
TEXT_MAX = 200
HOURS_MAX = 2000                  # of one training


@dataclass(frozen=True)
class Field:
    name: str
    kind: str = "text"                  # text | choice | hours
    choices: tuple[str, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Kind:
    name: str
    scope: int
    source: str                         # what `source` is for this kind (a label msgid key)
    fields: tuple[Field, ...]
    valid_until: str                    # required | optional | none


KINDS = {k.name: k for k in (
    Kind("health_certificate", SCOPE_HEALTH, "issuer",
         (Field("number"),), "required"),
    Kind("insurance", SCOPE_INSURANCE, "insurer",
         (Field("type", "choice", INSURANCE_TYPES), Field("number")), "required"),
    Kind("skill_certificate", SCOPE_CERTIFICATES, "issuer",
         (Field("title", "choice", TITLES), Field("level", "choice", LEVELS),
          Field("number")), "optional"),
    Kind("training", SCOPE_CERTIFICATES, "provider",
         (Field("course"), Field("hours", "hours")), "none"),
    Kind("background_check", SCOPE_CREDIT, "body",
         (Field("result", "choice", CHECK_RESULTS["background_check"]),), "optional"),
    Kind("judicial_check", SCOPE_CREDIT, "body",
         (Field("result", "choice", CHECK_RESULTS["judicial_check"]),), "optional"),
    Kind("dishonesty_check", SCOPE_CREDIT, "body",
         (Field("result", "choice", CHECK_RESULTS["dishonesty_check"]),), "optional"),
)}
REQUIRED = ("health_certificate", "insurance")


def _bad(field: str, message: str) -> BadRequest:
    return fields.bad(field, message, "bad_record")


def _text(form: Any, name: str, required: bool = True) -> str | None:
    return fields.text(form.get(name), name, TEXT_MAX, "bad_record", required)


def _value(f: Field, form: Any) -> Any:
    if f.kind == "choice":
        value = str(form.get(f.name) or "").strip()
        if value not in f.choices:
            raise _bad(f.name, "not in the catalogue")
        return value
    if f.kind == "hours":
        return float(fields.number(form.get(f.name), f.name, HOURS_MAX, "bad_record"))
    return _text(form, f.name, f.required)


def add(session: Session, agency_id: str, worker_ref: str, kind: str, form: Any, state: str,
        now: int, actor: str, tz: str) -> CreditRecord:
    """Enter a record from a form (a mapping of text fields); BadRequest `bad_record` naming
    the field when one is wrong, nothing written."""
    spec = KINDS.get(kind)
    if spec is None:
        raise _bad("kind", "unknown record kind")
    if state not in ("verified", "self_declared"):
        raise _bad("state", "verified or self_declared")
    registry.active_worker(session, agency_id, worker_ref)
    data = {f.name: _value(f, form) for f in spec.fields}
    source = _text(form, "source")
    issued = day_start(fields.day(form.get("issued_on"), "issued_on", "bad_record"), tz)
    if issued > now:
        raise _bad("issued_on", "not in the future")
    until = None
    if spec.valid_until != "none" and (form.get("valid_until") or spec.valid_until ==
                                       "required"):
        until = day_end(fields.day(form.get("valid_until"), "valid_until", "bad_record"), tz)
        if until < issued:
            raise _bad("valid_until", "before the issue date")
    r = CreditRecord(agency_id=agency_id, worker_ref=worker_ref, kind=kind, state=state,
                     data=json.dumps({k: v for k, v in data.items() if v is not None},
                                     ensure_ascii=False, sort_keys=True),
                     source=source, issued_on=issued, valid_until=until, entered_by=actor,
                     entered_at=now)
    if state == "verified":
        r.verified_by, r.verified_at = actor, now
    session.add(r)
    session.flush()
    audit.append(session, actor, "record.add", r.id, now, agency_id=agency_id,
                 worker_ref=worker_ref, kind=kind, state=state)
    events.credit_changed(session, agency_id, worker_ref, now, "record")
    log.info("record %d (%s, %s) entered for agency %s", r.id, kind, state, agency_id)
    return r


def add_many(session: Session, agency_id: str, worker_ref: str,
             entries: list[tuple[str, dict[str, Any]]], state: str, now: int, actor: str,
             tz: str) -> list[CreditRecord]:
    """Enter several records of one worker, [(kind, form)]: all or none (a wrong field of any
    raises before the caller's transaction commits)."""
    return [add(session, agency_id, worker_ref, kind, form, state, now, actor, tz)
            for kind, form in entries]


def get(session: Session, agency_id: str, record_id: int) -> CreditRecord:
    r = session.get(CreditRecord, record_id)
    if r is None or r.agency_id != agency_id:
        raise NotFound("no such record in this agency")
    return r


def verify(session: Session, agency_id: str, record_id: int, now: int,
           actor: str) -> CreditRecord:
    """A self-declared record checked against its original by staff."""
    r = get(session, agency_id, record_id)
    if r.state != "self_declared":
        raise Conflict(f"a {r.state} record cannot be verified", reason="not_self_declared")
    r.state, r.verified_by, r.verified_at = "verified", actor, now
    audit.append(session, actor, "record.verify", r.id, now, agency_id=agency_id,
                 worker_ref=r.worker_ref, kind=r.kind)
    events.credit_changed(session, agency_id, r.worker_ref, now, "record")
    session.flush()
    return r


def withdraw(session: Session, agency_id: str, record_id: int, reason: str | None, now: int,
             actor: str) -> CreditRecord:
    r = get(session, agency_id, record_id)
    if r.state == "withdrawn":
        raise Conflict("the record is already withdrawn", reason="already_withdrawn")
    why = (reason or "").strip()[:500]
    if not why:
        raise _bad("reason", "say why the record is withdrawn")
    r.state, r.withdrawn_by, r.withdrawn_at, r.withdraw_reason = "withdrawn", actor, now, why
    audit.append(session, actor, "record.withdraw", r.id, now, agency_id=agency_id,
                 worker_ref=r.worker_ref, kind=r.kind, reason=why)
    events.credit_changed(session, agency_id, r.worker_ref, now, "record")
    session.flush()
    return r


def shown_state(r: CreditRecord, now: int) -> str:
    """verified / self_declared / withdrawn / expired (valid-until day passed)."""
    if r.state != "withdrawn" and r.valid_until is not None and r.valid_until < now:
        return "expired"
    return r.state


def view(r: CreditRecord, now: int) -> dict[str, Any]:
    return {"id": r.id, "kind": r.kind, "state": shown_state(r, now), "source": r.source,
            "issued_on": r.issued_on, "valid_until": r.valid_until,
            "verified_by": r.verified_by, "verified_at": r.verified_at,
            "entered_by": r.entered_by, "entered_at": r.entered_at,
            "withdraw_reason": r.withdraw_reason, **json.loads(r.data or "{}")}


def for_worker(session: Session, agency_id: str, worker_ref: str, now: int,
               include_withdrawn: bool = True) -> list[dict[str, Any]]:
    """The worker's records, newest issue first, as `view` dicts."""
    q = select(CreditRecord).where(CreditRecord.agency_id == agency_id,
                                   CreditRecord.worker_ref == worker_ref)
    if not include_withdrawn:
        q = q.where(CreditRecord.state != "withdrawn")
    return [view(r, now) for r in session.scalars(
        q.order_by(CreditRecord.issued_on.desc(), CreditRecord.id.desc()))]


def in_scope(rows: list[dict[str, Any]], scope: int) -> list[dict[str, Any]]:
    """The records a consent view with these scope bits may show (never withdrawn ones)."""
    return [r for r in rows if r["state"] != "withdrawn" and KINDS[r["kind"]].scope & scope]

