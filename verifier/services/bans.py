"""The bureau's ban list (黑名单): a ban of a person (by person hash) from `starts_at` to
`ends_at` (5 years by default: "纳入行业黑名单, 5年内禁止从事家政服务"), with its category,
legal basis, who decided and the appeal route.

In force, a ban refuses every issuance for the person (services/persons.refuse_if_banned) and
has revoked every live badge of the person at every agency; the callers republish those
agencies' status lists, so verifiers and terminals see the badges revoked at their next list
update (docs/protocol.md says why the agencies' lists and not a list of the bureau's own).
It ends by itself at its end, or early when lifted on appeal; the badges stay revoked. Every
step is in the audit log: ban.create, ban.start (with the badges revoked), ban.lift, ban.end.
"""
from __future__ import annotations

import datetime
import logging
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..models import Badge, Ban, Person, Worker
from . import audit, persons
from .errors import BadRequest, InvalidTransition, NotFound
from .registry import LIVE, set_state

log = logging.getLogger(__name__)

# reason categories of the industry blacklist (商务部《家政服务业信用建设指导意见》)
CATEGORIES = ("crime", "abuse", "theft", "fraud", "false_identity", "serious_breach", "other")
BAN_YEARS = 5
_HASH = re.compile(r"[0-9a-f]{64}")
_TEXT_MAX = 2000


@dataclass
class Change:
    """What a ban operation did: the agencies whose status lists now need republishing."""
    ban: Ban | None = None
    agencies: set[str] = field(default_factory=set)
    revoked: list[int] = field(default_factory=list)


def _text(d: dict[str, Any], name: str, limit: int = _TEXT_MAX) -> str:
    value = d.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRequest(f"{name} is required (1..{limit} characters) / 请填写 {name}",
                         reason=f"{name}_required")
    return value.strip()


def _time(d: dict[str, Any], name: str, default: int) -> int:
    value = d.get(name, default)
    if value is None:
        return default
    if type(value) is not int or value < 0:
        raise BadRequest(f"{name} must be a Unix time in seconds", reason="malformed")
    return value


def years_later(at: int, years: int, tz: str) -> int:
    """The same local date and time `years` later (29 February becomes 28 February)."""
    t = datetime.datetime.fromtimestamp(at, ZoneInfo(tz))
    try:
        later = t.replace(year=t.year + years)
    except ValueError:
        later = t.replace(year=t.year + years, day=28)
    return int(later.timestamp())


def create(session: Session, d: dict[str, Any], now: int, actor: str, tz: str) -> Change:
    """A ban from the bureau's request body (person_hash, category, legal_basis, decided_by,
    appeal_route, optional starts_at / ends_at). Refused whole on any bad field."""
    digest = d.get("person_hash")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise BadRequest("person_hash is 64 lower-case hex digits", reason="malformed")
    person = persons.by_hash(session, digest)
    if person is None:
        raise NotFound("no person with this hash in the registry / 登记中没有此人",
                       reason="unknown_person")
    category = d.get("category")
    if category not in CATEGORIES:
        raise BadRequest(f"category must be one of {', '.join(CATEGORIES)}",
                         reason="bad_category")
    legal_basis, decided_by = _text(d, "legal_basis"), _text(d, "decided_by", 200)
    appeal_route = _text(d, "appeal_route")
    starts_at = _time(d, "starts_at", now)
    ends_at = _time(d, "ends_at", years_later(starts_at, BAN_YEARS, tz))
    if ends_at <= starts_at:
        raise BadRequest("a ban ends after it starts / 结束时间须晚于开始时间",
                         reason="ban_ends_before_start")
    if ends_at <= now:
        raise BadRequest("this ban would already be over / 该禁令已过期",
                         reason="ban_already_over")
    ban = Ban(person_id=person.id, category=category, legal_basis=legal_basis,
              starts_at=starts_at, ends_at=ends_at, decided_by=decided_by,
              appeal_route=appeal_route, start_recorded=False, end_recorded=False,
              created_at=now)
    session.add(ban)
    session.flush()
    audit.append(session, actor, "ban.create", ban.id, now, person_hash=person.person_hash,
                 category=category, legal_basis=legal_basis, starts_at=starts_at,
                 ends_at=ends_at, decided_by=decided_by, appeal_route=appeal_route)
    log.info("ban %d of person %d created: %s .. %s (by %s)", ban.id, person.id, starts_at,
             ends_at, actor)
    change = sweep(session, now, actor)
    change.ban = ban
    return change


def _start(session: Session, ban: Ban, now: int, actor: str, change: Change) -> None:
    rows = session.execute(select(Badge, Worker.agency_id).join(Worker,
                                                                Badge.worker_id == Worker.id)
                           .where(Worker.person_id == ban.person_id, Badge.state.in_(LIVE))
                           .order_by(Badge.id)).all()
    for badge, agency_id in rows:
        set_state(session, badge, "revoked", now, actor,
                  f"banned: not permitted to work (bureau decision, ban {ban.id})")
        change.agencies.add(agency_id)
        change.revoked.append(badge.id)
    ban.start_recorded = True
    audit.append(session, actor, "ban.start", ban.id, now, badges_revoked=change.revoked)
    log.info("ban %d in force: %d badge(s) revoked at %s", ban.id, len(rows),
             sorted(change.agencies) or "no agency")


def _end(session: Session, ban: Ban, now: int, actor: str) -> None:
    ban.end_recorded = True
    how = "lifted" if ban.lifted_at is not None else "expired"
    audit.append(session, actor, "ban.end", ban.id, now, how=how,
                 at=ban.lifted_at if ban.lifted_at is not None else ban.ends_at)
    log.info("ban %d ended (%s)", ban.id, how)


def sweep(session: Session, now: int, actor: str) -> Change:
    """Record every ban that started or ended by `now` and is not yet recorded: a start
    revokes the person's live badges; an end only writes the audit entry (badges stay
    revoked). Safe to run any number of times (cron: `flask --app verifier ban-sweep`)."""
    change = Change()
    due = session.scalars(select(Ban).where(
        Ban.end_recorded.is_(False),
        or_(Ban.starts_at <= now, Ban.lifted_at.is_not(None))).order_by(Ban.id)
        .with_for_update())
    for ban in due:
        live = ban.lifted_at is None and ban.ends_at > now
        if not ban.start_recorded and ban.lifted_at is None and ban.starts_at <= now:
            _start(session, ban, now, actor, change)
        if not live:
            _end(session, ban, now, actor)
    session.flush()
    return change


def lift(session: Session, ban_id: int, d: dict[str, Any], now: int, actor: str) -> Change:
    """End a ban early on a successful appeal (the appeal's outcome as `reason`)."""
    ban = session.get(Ban, ban_id)
    if ban is None:
        raise NotFound("no such ban", reason="unknown_ban")
    reason = _text(d, "reason")
    if ban.lifted_at is not None or ban.end_recorded:
        raise InvalidTransition("this ban has already ended / 该禁令已结束",
                                reason="ban_ended")
    ban.lifted_at, ban.lifted_reason = now, reason
    audit.append(session, actor, "ban.lift", ban.id, now, reason=reason)
    change = sweep(session, now, actor)
    change.ban = ban
    return change


def state_of(ban: Ban, now: int) -> str:
    if ban.lifted_at is not None:
        return "lifted"
    if ban.ends_at <= now:
        return "ended"
    return "active" if ban.starts_at <= now else "pending"


def to_json(ban: Ban, person: Person, now: int) -> dict[str, Any]:
    """A ban as the bureau's API and its export show it: the person hash, never a number."""
    return {"id": ban.id, "person_hash": person.person_hash, "hash_key": person.hash_key_id,
            "category": ban.category, "legal_basis": ban.legal_basis,
            "starts_at": ban.starts_at, "ends_at": ban.ends_at, "decided_by": ban.decided_by,
            "appeal_route": ban.appeal_route, "lifted_at": ban.lifted_at,
            "lifted_reason": ban.lifted_reason, "state": state_of(ban, now),
            "created_at": ban.created_at}


def listing(session: Session, now: int) -> list[dict[str, Any]]:
    rows = session.execute(select(Ban, Person).join(Person, Ban.person_id == Person.id)
                           .order_by(Ban.id)).all()
    return [to_json(b, p, now) for b, p in rows]


def get(session: Session, ban_id: int, now: int) -> dict[str, Any]:
    ban = session.get(Ban, ban_id)
    if ban is None:
        raise NotFound("no such ban", reason="unknown_ban")
    person = session.get(Person, ban.person_id)
    assert person is not None
    return to_json(ban, person, now)
