"""Verified visits (确认入户): two employer taps of the worker's badge, arrival and departure.

- Arrival: the employer page of a tap that was not red offers "Confirm arrival" with a service
  type from the agency's catalogue (and, optionally, the district). Confirming opens a Visit
  bound to that tap (badge, counter, token): each tap opens at most one visit (a replayed
  arrival link is `already_confirmed`), only from the browser that opened the page
  (`not_viewer`), only while that page may be reloaded (the page's own one-view rule).
- Household: the first confirmation creates a pseudonymous Household, a random secret for the
  browser's cookie and a short recovery code; the table holds only their SHA-256. A cookie
  that matches no household is `household_unknown`, one unused for `HOUSEHOLD_TTL_S` is
  `household_expired`: neither opens anything.
- Departure: a later tap of the same badge from the same household offers "End of service";
  it closes the open visit with its end time and the tap's counter (`no_open_visit` without
  one). A visit left open closes itself `VISIT_MAX_S` after its start, marked `auto`.
- One badge, one open visit: an arrival while another household's visit of that badge is open
  is refused (`visit_overlap`) and recorded as a fraud signal.
- The receipt: a COSE_Sign1 signed by the verifier's receipt key (docs/protocol.md "Visit
  receipt").

A visit is kept under the agency's file of the worker (agency id + worker_ref, the key every
other table uses); the history of a worker in the bureau's registry spans every agency file of
the person (`history`). Agreements: services/agreements.py; fraud signals:
services/signals.py; reviews of a visit: services/reviews.py.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from host import wire
from host.wire.keys import PrivateKey

from ..models import Household, Review, Tap, TapView, Visit, Worker, ctr_value
from . import agreements, disclosures, events, signals
from .errors import Conflict, Forbidden, NotFound, ServiceError

log = logging.getLogger(__name__)

SERVICE_TYPES = ("cleaning", "infant_care", "elder_care", "cooking", "hourly")
VISIT_MAX_S = 12 * 3600
HOUSEHOLD_TTL_S = 400 * 86400
DISTRICT_MAX = 64
RECEIPT_TYPE = "xinka-visit-receipt"
RECEIPT_VERSION = 1
_RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"        # no 0/O, 1/I/L, U


class VisitRefused(ServiceError):
    """A refused arrival, departure or receipt; `signal` is a fraud signal to record even
    though the request itself changes nothing."""
    reason, http_status = "visit_refused", 403

    def __init__(self, message: str | None = None, reason: str | None = None,
                 http_status: int | None = None,
                 signal: dict[str, Any] | None = None) -> None:
        super().__init__(message, reason)
        if http_status is not None:
            self.http_status = http_status
        self.signal = signal


@dataclass
class NewHousehold:
    household: Household
    secret: str                       # for the cookie
    recovery_code: str                # shown once, on the receipt page


def key_hash(secret: str) -> str:
    return hashlib.sha256(("household:" + secret).encode()).hexdigest()


def recovery_hash(code: str) -> str:
    norm = "".join(c for c in code.upper() if c.isalnum())
    return hashlib.sha256(("recovery:" + norm).encode()).hexdigest()


def catalogue(config: Any, agency_id: str) -> tuple[str, ...]:
    """The agency's service types: SERVICE_CATALOGUE[agency_id], else the default list."""
    per_agency = (config.get("SERVICE_CATALOGUE") or {}) if config is not None else {}
    return tuple(per_agency.get(agency_id) or SERVICE_TYPES)


def household_of(session: Session, secret: str | None, now: int,
                 ttl: int = HOUSEHOLD_TTL_S) -> Household | None:
    """The household of a cookie; None without a cookie; refused when forged or expired."""
    if not secret:
        return None
    h = session.scalar(select(Household).where(Household.key_hash == key_hash(secret)))
    if h is None:
        raise VisitRefused("household cookie matches no household", "household_unknown")
    if now - h.last_seen_at > ttl:
        raise VisitRefused("household key unused too long", "household_expired")
    return h


def recover(session: Session, code: str, now: int) -> NewHousehold:
    """A fresh cookie secret for the household of a recovery code (the old one stops)."""
    h = session.scalar(select(Household).where(Household.recovery_hash ==
                                               recovery_hash(code or "")))
    if h is None:
        raise VisitRefused("no household with this recovery code", "bad_recovery_code")
    secret = secrets.token_urlsafe(32)
    h.key_hash, h.last_seen_at = key_hash(secret), now
    session.flush()
    log.info("household %s recovered its key", h.pseudonym)
    return NewHousehold(h, secret, "")


def _new_household(session: Session, now: int, district: str | None) -> NewHousehold:
    secret = secrets.token_urlsafe(32)
    code = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
    code = "-".join(code[i:i + 4] for i in range(0, 12, 4))
    h = Household(pseudonym="H-" + secrets.token_hex(5).upper(), key_hash=key_hash(secret),
                  recovery_hash=recovery_hash(code), district=district, created_at=now,
                  last_seen_at=now)
    session.add(h)
    session.flush()
    return NewHousehold(h, secret, code)


def close_stale(session: Session, now: int, max_s: int = VISIT_MAX_S,
                badge_kid: str | None = None) -> int:
    """Close visits open longer than max_s (end = start + max_s, closed_by "auto")."""
    q = select(Visit).where(Visit.end_at.is_(None), Visit.start_at < now - max_s)
    if badge_kid is not None:
        q = q.where(Visit.badge_kid == badge_kid)
    n = 0
    for v in session.scalars(q):
        v.end_at, v.closed_by = v.start_at + max_s, "auto"
        events.credit_changed(session, v.agency_id, v.worker_ref, now, "visit")
        n += 1
    if n:
        session.flush()
        log.info("%d visit(s) closed after %d s", n, max_s)
    return n


def shown_to(session: Session, token_hash: str | None, viewer: str) -> TapView:
    """The TapView of a tap shown to this browser (viewer hash); refused otherwise."""
    return _view(session, token_hash, viewer)


def _view(session: Session, token_hash: str | None, viewer: str) -> TapView:
    view = session.scalar(select(TapView).where(TapView.token_hash == token_hash)) \
        if token_hash else None
    if view is None:
        raise VisitRefused("this tap was never shown on the employer page", "no_tap")
    if view.viewer_hash != viewer:
        raise VisitRefused("another browser opened this tap", "not_viewer")
    return view


def _counter_key(session: Session, view: TapView) -> int:
    key = session.scalar(select(Tap.ctr_key).where(Tap.badge_kid == view.badge_kid,
                                                    Tap.token_hash == view.token_hash))
    if key is None:                                    # a shown tap is always booked
        raise NotFound("tap not in the ledger", "no_tap")
    return key


def used_by_visit(session: Session, token_hash: str) -> Visit | None:
    """The visit this tap opened or closed, if any."""
    return session.scalar(select(Visit).where(
        (Visit.start_token_hash == token_hash) | (Visit.end_token_hash == token_hash)))


def open_visit(session: Session, badge_kid: str, household_id: int | None = None) -> Visit | None:
    q = select(Visit).where(Visit.badge_kid == badge_kid, Visit.end_at.is_(None))
    if household_id is not None:
        q = q.where(Visit.household_id == household_id)
    return session.scalars(q.order_by(Visit.start_at.desc())).first()


def offer(session: Session, token_hash: str, badge_kid: str, household: Household | None,
          now: int, max_s: int = VISIT_MAX_S) -> tuple[str, Visit | None]:
    """What the employer page of a shown, not-red tap offers: ("done", visit) when this tap
    already opened or closed a visit, ("end", visit) when this household has this badge's
    visit open, else ("arrive", None)."""
    used = used_by_visit(session, token_hash)
    if used is not None:
        return "done", used
    close_stale(session, now, max_s, badge_kid)
    if household is not None:
        v = open_visit(session, badge_kid, household.id)
        if v is not None:
            return "end", v
    return "arrive", None


def arrive(session: Session, token_hash: str | None, viewer: str, household: Household | None,
           service_type: str | None, district: str | None, services: tuple[str, ...],
           serial: str, now: int, max_s: int = VISIT_MAX_S,
           thresholds: signals.Thresholds | None = None) -> tuple[Visit, NewHousehold | None]:
    """Open a visit for a shown tap (module docstring), match it to an agreement and record
    the fraud signals it raises (services/signals.py). The caller has checked that the page
    of this tap, reloaded now, is not red."""
    view = _view(session, token_hash, viewer)
    if used_by_visit(session, view.token_hash) is not None:
        raise VisitRefused("this tap already confirmed a visit", "already_confirmed", 409)
    if service_type not in services:
        raise VisitRefused(f"unknown service type {service_type!r}", "bad_service_type", 400)
    district = (district or "").strip() or None
    if district is not None and len(district) > DISTRICT_MAX:
        raise VisitRefused("district too long", "bad_district", 400)
    close_stale(session, now, max_s, view.badge_kid)
    other = open_visit(session, view.badge_kid)
    if other is not None:
        if household is not None and other.household_id == household.id:
            raise VisitRefused("this household's visit is still open", "visit_open", 409)
        raise VisitRefused("the badge has another household's visit open", "visit_overlap", 409,
                           signal={"agency_id": view.agency_id, "kind": "overlap",
                                   "worker_ref": view.worker_ref, "visit_id": other.id,
                                   "detail": f"arrival while visit {other.id} is open"})
    key = _counter_key(session, view)
    new = None
    if household is None:
        new = _new_household(session, now, district)
        household = new.household
    household.last_seen_at = now
    if district is not None and household.district is None:
        household.district = district
    v = Visit(agency_id=view.agency_id, worker_ref=view.worker_ref, badge_kid=view.badge_kid,
              serial=serial, household_id=household.id, service_type=service_type,
              district=district or household.district, start_token_hash=view.token_hash,
              start_ctr_key=key, page_at=view.first_at, start_at=now)
    session.add(v)
    session.flush()
    disclosures.visit_confirmed(session, view.token_hash, household.id)
    agreements.match(session, v)
    signals.after_arrival(session, v, now, thresholds or signals.Thresholds())
    session.flush()
    log.info("visit %d opened: agency %s, badge %s, %s", v.id, v.agency_id, v.badge_kid,
             service_type)
    return v, new


def depart(session: Session, token_hash: str | None, viewer: str, household: Household | None,
           now: int, max_s: int = VISIT_MAX_S) -> Visit:
    """Close this household's open visit of the tapped badge with this (later) tap."""
    view = _view(session, token_hash, viewer)
    if used_by_visit(session, view.token_hash) is not None:
        raise VisitRefused("this tap was already used for a visit", "already_confirmed", 409)
    if household is None:
        raise VisitRefused("no household on this phone", "no_open_visit", 409)
    close_stale(session, now, max_s, view.badge_kid)
    v = open_visit(session, view.badge_kid, household.id)
    if v is None:
        raise VisitRefused("no open visit of this badge for this household", "no_open_visit",
                           409)
    key = _counter_key(session, view)
    if key <= v.start_ctr_key:
        raise VisitRefused("departure tap older than the arrival tap", "no_open_visit", 409)
    v.end_token_hash, v.end_ctr_key, v.end_at, v.closed_by = view.token_hash, key, now, \
        "departure"
    household.last_seen_at = now
    session.flush()
    disclosures.visit_confirmed(session, view.token_hash, household.id)
    events.credit_changed(session, v.agency_id, v.worker_ref, now, "visit")
    log.info("visit %d closed after %d s", v.id, now - v.start_at)
    return v


def visit_for(session: Session, visit_id: int, household: Household | None) -> Visit:
    """A visit as its household sees it (receipt page): refused for anyone else."""
    v = session.get(Visit, visit_id)
    if v is None or household is None or v.household_id != household.id:
        raise VisitRefused("not a visit of this household", "not_your_visit", 404)
    return v


def receipt_claims(session: Session, v: Visit) -> dict[str, Any]:
    """The payload map of a visit receipt (docs/protocol.md "Visit receipt")."""
    h = session.get(Household, v.household_id)
    assert h is not None
    claims: dict[str, Any] = {
        "typ": RECEIPT_TYPE, "v": RECEIPT_VERSION, "visit": v.id, "svc": v.service_type,
        "hh": h.pseudonym, "serial": v.serial, "agency": v.agency_id, "start": v.start_at,
        "ctr_start": ctr_value(v.start_ctr_key)}
    if v.end_at is not None:
        claims["end"] = v.end_at
        claims["closed_by"] = v.closed_by
    if v.end_ctr_key is not None:
        claims["ctr_end"] = ctr_value(v.end_ctr_key)
    if v.district:
        claims["district"] = v.district
    return claims


def receipt(session: Session, v: Visit, key: PrivateKey | None) -> bytes:
    """The visit's receipt: COSE_Sign1 (ES256, kid of the receipt key) over its claims."""
    if key is None:
        raise Conflict("this verifier has no receipt key", "no_receipt_key")
    if v.end_at is None:
        raise VisitRefused("the visit is still open", "visit_open", 409)
    return wire.cose.sign1(key, wire.encode(receipt_claims(session, v)),
                           wire.cose.protected_header(RECEIPT_TYPE))


def check_receipt(data: bytes, public_key: wire.keys.PublicKey) -> dict[str, Any]:
    """The claims of a receipt signed by public_key; WireError when it is not."""
    msg = wire.cose.parse_sign1(data, 4096)
    wire.cose.verify(msg, public_key)
    claims = wire.decode(msg.payload_bytes, 4096)
    if not isinstance(claims, dict) or claims.get("typ") != RECEIPT_TYPE:
        raise wire.Malformed("not a visit receipt")
    return claims


def _of_worker(agency_id: str, worker_ref: str, person_id: int | None) -> Any:
    """Visits of a worker: of every agency file of the person when the worker is in the
    bureau's registry (一人一档), else of this agency's file."""
    if person_id is None:
        return (Visit.agency_id == agency_id) & (Visit.worker_ref == worker_ref)
    files = select(Worker.agency_id, Worker.worker_ref).where(Worker.person_id == person_id)
    return tuple_(Visit.agency_id, Visit.worker_ref).in_(files)


def history(session: Session, agency_id: str, worker_ref: str,
            person_id: int | None = None) -> dict[str, Any]:
    """The worker's verified-visit summary: closed visits, households, agencies, service
    types, since (the first visit's start), hours; across agencies with a person_id."""
    cond = _of_worker(agency_id, worker_ref, person_id) & Visit.end_at.is_not(None)
    n, households, agencies, since, seconds = session.execute(select(
        func.count(Visit.id), func.count(func.distinct(Visit.household_id)),
        func.count(func.distinct(Visit.agency_id)), func.min(Visit.start_at),
        func.sum(Visit.end_at - Visit.start_at)).where(cond)).one()
    types = sorted(session.scalars(select(Visit.service_type).distinct().where(cond)))
    return {"visits": n, "households": households, "agencies": agencies, "since": since,
            "hours": round((seconds or 0) / 3600), "service_types": types,
            "across_agencies": person_id is not None}


def for_worker(session: Session, agency_id: str, worker_ref: str | None = None,
               agreement_id: int | None = None, before: int | None = None,
               limit: int = 50) -> tuple[list[dict[str, Any]], int | None]:
    """The agency's visits, newest first (one worker's, or one agreement's), with the
    household pseudonym and whether the household reviewed it; (rows, next cursor)."""
    q = (select(Visit, Household.pseudonym, Review.id, Review.stars, Review.category)
         .join(Household, Household.id == Visit.household_id)
         .outerjoin(Review, Review.visit_id == Visit.id)
         .where(Visit.agency_id == agency_id))
    if worker_ref is not None:
        q = q.where(Visit.worker_ref == worker_ref)
    if agreement_id is not None:
        q = q.where(Visit.agreement_id == agreement_id)
    if before is not None:
        q = q.where(Visit.id < before)
    rows = list(session.execute(q.order_by(Visit.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    out = [{"visit": v, "household": p, "review_id": rid, "stars": stars,
            "complaint": cat} for v, p, rid, stars, cat in rows[:limit]]
    return out, (out[-1]["visit"].id if more and out else None)


def of_household(session: Session, household: Household, limit: int = 100) -> list[Visit]:
    return list(session.scalars(select(Visit).where(Visit.household_id == household.id)
                                .order_by(Visit.id.desc()).limit(limit)))


__all__ = ["Forbidden", "VisitRefused", "arrive", "catalogue", "check_receipt", "close_stale",
           "depart", "for_worker", "history", "household_of", "of_household", "offer",
           "receipt", "receipt_claims", "recover", "visit_for"]
