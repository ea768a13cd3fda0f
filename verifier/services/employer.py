"""The employer page (`GET /t/<b64>`): verify the tap server-side, book it, apply the one-view
rule, gather what the colour rules need, and collect what a consent view may show.

One-view rule: the first showing of a tap books it (each (badge, counter) once, as
`/api/v1/verify` does) and records which browser saw it (SHA-256 of a random cookie). The
same browser may reload the page within `reload_window` seconds; any other showing of the
token (later, from another browser, or after /api/v1/verify booked it) is red
`already_used`. An older token of the same badge (counter below its high-water mark) or a
second token with a used counter is red `replayed`. The first showing is also a row of the
worker's disclosure log (services/disclosures.py); a reload or a refusal is not.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from host import wire
from host.wire.ndef import decode_tap_b64
from host.wire.tap import (SCOPE_ATTENDANCE, SCOPE_CERTIFICATES, SCOPE_CREDIT, SCOPE_HEALTH,
                           SCOPE_INSURANCE)

from ..models import Agency, Attendance, Badge, Worker
from ..models import TapView
from . import (colour, disclosures, grades, ledger, links, persons, records, reviews,
               verification, visits)
from .periods import last_periods
from .trust import Snapshot

RELOAD_WINDOW_S = 600
PAGE_PURPOSES = ("status", "consent")


@dataclass
class Details:
    """What a consent view shows, limited to the token's scope bits."""
    masked_name: str | None                   # None: the worker is not in this registry
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # kind -> views
    show_certificates: bool = False
    show_health: bool = False
    show_insurance: bool = False
    grade: dict[str, Any] | None = None       # services/grades.view of the current grade
    show_credit: bool = False
    months: list[tuple[str, bool]] | None = None   # [(period, checked_in)] oldest first
    months_checked: int = 0
    visits: dict[str, Any] | None = None       # services/visits.history (attendance bit)


@dataclass
class Page:
    decision: colour.Decision
    checked_at: int
    purpose: str | None = None
    agency_id: str | None = None
    agency_name: str | None = None
    serial: str | None = None
    list_age_s: int | None = None
    details: Details | None = None
    worker_ref: str | None = None
    reload: bool = False                      # a reload within the window
    reviewable: bool = False
    complainable: bool = False                # a status tap: a complaint, not a rating
    reviewed: bool = False
    reasons: list[str] = field(default_factory=list)


NOT_GENUINE = ("malformed", "oversized", "wrong_alg", "bad_signature", "unknown_key",
               "untrusted_issuer", "wrong_purpose")


def viewer_hash(secret: str | None) -> str:
    return hashlib.sha256(("viewer:" + (secret or "")).encode()).hexdigest()


def token_hash_of(b64: str) -> str | None:
    """SHA-256 (hex) of the token in a tap URL's b64 part, or None if it does not parse."""
    try:
        token, _ = decode_tap_b64(b64)
    except wire.WireError:
        return None
    return hashlib.sha256(token).hexdigest()


def mask_name(name: str | None) -> str | None:
    """张三 -> 张*, 王小明 -> 王*明, Anna Li -> A*****i; None -> None."""
    if not name:
        return None
    n = len(name)
    if n == 1:
        return "*"
    if n == 2:
        return name[0] + "*"
    return name[0] + "*" * (n - 2) + name[-1]


def show(session: Session, snapshot: Snapshot, b64: str, viewer_secret: str, now: int,
         policy: verification.Policy, ctx: grades.Context = grades.DEFAULT,
         reload_window: int = RELOAD_WINDOW_S,
         cache: wire.CredentialCache | None = None) -> Page:
    """The Page for one request of /t/<b64> by the browser holding viewer_secret."""
    try:
        token, credential = decode_tap_b64(b64)
    except wire.WireError as err:
        return red(err.reason, now)
    verdict, tap = verification.check(snapshot, token, credential, now, policy,
                                      PAGE_PURPOSES, cache)
    if tap is None:
        return red(verdict.reason, now)
    agency_id, worker_ref = tap.credential.iss, tap.credential.sub
    page = Page(colour.Decision(colour.GREEN), now, purpose=tap.purpose,
                agency_id=agency_id, serial=tap.credential.serial,
                list_age_s=verdict.list_age_s, worker_ref=worker_ref)
    page.agency_name = _agency_name(session, snapshot, agency_id)
    facts = colour.Facts(valid=verdict.valid, reason=verdict.reason, status=verdict.status,
                         stale=verdict.stale, now=now)
    view = None
    if verdict.valid:
        view, facts.reason = _book(session, tap, viewer_secret, now, reload_window)
        facts.valid = facts.reason is None
        page.reload = view is not None and view.views > 1
    badge = session.scalar(select(Badge).where(Badge.kid == tap.badge_kid.hex()))
    worker = None
    rows: list[dict[str, Any]] = []
    if badge is not None and badge.agency_id == agency_id:
        facts.badge_state = badge.state
        if badge.worker_id is not None:
            worker = session.get(Worker, badge.worker_id)
    if worker is None:
        worker = session.scalar(select(Worker).where(Worker.agency_id == agency_id,
                                                     Worker.worker_ref == worker_ref))
    if worker is not None:
        facts.worker_state = worker.state
        # only a genuine badge's page may say its holder is banned (not a forger's)
        facts.banned = verdict.reason not in NOT_GENUINE and worker.person_id is not None \
            and persons.active_ban(session, worker.person_id, now) is not None
        rows = records.for_worker(session, agency_id, worker_ref, now,
                                  include_withdrawn=False)
    grade, facts.credit = grades.warnings(session, agency_id, worker_ref, worker, now, ctx)
    page.decision = colour.decide(facts)
    page.reasons = _public_reasons(page.decision.reasons, tap.purpose)
    # 分级授权: the badge's bits and the worker's own choice (their page), neither widening
    # the other
    scope = (tap.scope or 0) & links.scope_of(session, agency_id, worker_ref)
    if page.decision.colour != colour.RED and tap.purpose == "consent":
        page.details = _details(session, worker, grade, rows, scope, agency_id,
                                worker_ref, now, ctx)
    if view is not None and view.views == 1:          # the first showing: a disclosure
        shown = page.details is not None
        disclosures.record(session, agency_id, worker_ref, now,
                           "consent" if shown else "status", "employer",
                           scope=disclosures.scope_names(scope) if shown else None,
                           token_hash=view.token_hash)
    if page.decision.colour != colour.RED and view is not None:
        page.reviewed = reviews.exists_for(session, view.id)
        page.reviewable = tap.purpose == "consent" and not page.reviewed
        page.complainable = tap.purpose == "status" and not page.reviewed
    return page


def red(reason: str | None, now: int) -> Page:
    """A red Page for a refusal that happened before verification."""
    d = colour.decide(colour.Facts(valid=False, reason=reason, now=now))
    return Page(d, now, reasons=list(d.reasons))


def _book(session: Session, tap: wire.Tap, viewer_secret: str, now: int,
          reload_window: int) -> tuple[TapView | None, str | None]:
    """(TapView or None, None if it may be shown else the red reason)."""
    with session.begin_nested():
        claim = ledger.claim_tap(session, tap, now, "page")
    h = tap.token_hash.hex()
    if claim.outcome == "new" and not claim.below:
        view = TapView(token_hash=h, purpose=tap.purpose, badge_kid=tap.badge_kid.hex(),
                       agency_id=tap.credential.iss, worker_ref=tap.credential.sub,
                       viewer_hash=viewer_hash(viewer_secret), first_at=now, last_at=now,
                       views=1)
        session.add(view)
        session.flush()
        return view, None
    if claim.outcome != "duplicate":
        return None, "replayed"
    view = session.scalar(select(TapView).where(TapView.token_hash == h))
    if view is None or view.viewer_hash != viewer_hash(viewer_secret) or \
            now - view.first_at > reload_window:
        return None, "already_used"
    view.views += 1
    view.last_at = now
    session.flush()
    return view, None


def _agency_name(session: Session, snapshot: Snapshot, agency_id: str) -> str:
    row = session.get(Agency, agency_id)
    if row is not None:
        return row.name
    entry = snapshot.trust.agency(agency_id) if snapshot.trust is not None else None
    return entry.name if entry is not None else agency_id


def _public_reasons(reasons: list[str], purpose: str) -> list[str]:
    """A status tap (no consent) does not say which record is missing."""
    if purpose != "status":
        return list(reasons)
    out = []
    for r in reasons:
        r = "records_incomplete" if r.startswith(("health_", "insurance_")) else r
        if r not in out:
            out.append(r)
    return out


def _details(session: Session, worker: Worker | None, grade: Any,
             rows: list[dict[str, Any]], scope: int, agency_id: str, worker_ref: str, now: int,
             ctx: grades.Context) -> Details:
    d = Details(masked_name=mask_name(worker.name) if worker is not None else None)
    for r in records.in_scope(rows, scope):
        d.records.setdefault(r["kind"], []).append(r)
    d.show_certificates = bool(scope & SCOPE_CERTIFICATES)
    d.show_health = bool(scope & SCOPE_HEALTH)
    d.show_insurance = bool(scope & SCOPE_INSURANCE)
    if scope & SCOPE_CREDIT:
        d.show_credit = True
        d.grade = grades.view(grade)
    if scope & SCOPE_ATTENDANCE:
        periods = last_periods(now, ctx.tz, ctx.start_day)
        seen = set(session.scalars(select(Attendance.period).where(
            Attendance.agency_id == agency_id, Attendance.worker_ref == worker_ref,
            Attendance.period.in_(periods))))
        d.months = [(p, p in seen) for p in periods]
        d.months_checked = len(seen)
        d.visits = visits.history(session, agency_id, worker_ref,
                                  worker.person_id if worker is not None else None)
    return d
