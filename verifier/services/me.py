"""What the worker's own page shows (views/me.py) and the download of everything the service
holds about the worker (PIPL art. 45): one worker file, read by the worker; nothing here is a
disclosure to anyone else.

`everything` lists, table by table, every row that names this worker file (agency id +
worker_ref, or the worker's id): the worker row (its sealed ID number is not given: it is
sealed with the agency's key and only the agency can open it; its presence is), badges,
check-ins (times and terminals; the signed token itself is the badge's, not personal), taps
booked by phones, attendance, credit records, grades, reviews, complaints, appeals, visits,
the disclosure log, link codes (hashes only: when, where from, used), the consent choice and
the 注销 request. tests/web/test_worker_page.py compares it with the database.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select
from sqlalchemy.orm import Session

from host import wire

from ..models import (Appeal, Attendance, Badge, CancelRequest, Checkin, Complaint,
                      CreditGrade, CreditRecord, Disclosure, LinkCode, Review, Tap, Visit,
                      Worker, WorkerChoice)
from . import console, disclosures, grades, links, registry
from .periods import last_periods, period_of

# per table: the columns left out of the download, and why (docs/worker.md)
LEFT_OUT = {"workers": {"id_number": "never written: numbers are kept sealed only",
                        "id_number_enc": "sealed with the agency's key; only the agency can "
                                         "open it"},
            "checkins": {"token": "the badge's signed token (bytes), not about the worker"},
            "taps": {"token_hash": "a hash of the badge's token"},
            "link_codes": {"code_hash": "a hash of a used or expired one-time code"}}
PERIODS = 12


def _row(obj: Any) -> dict[str, Any]:
    table = obj.__table__.name
    skip = LEFT_OUT.get(table, {})
    out: dict[str, Any] = {}
    for col in sa_inspect(type(obj)).columns:
        if col.key in skip:
            if col.key == "id_number_enc":
                out["id_number_sealed"] = getattr(obj, col.key) is not None
            continue
        value = getattr(obj, col.key)
        out[col.key] = value.hex() if isinstance(value, bytes) else value
    return out


def _rows(session: Session, model: Any, *where: Any) -> list[dict[str, Any]]:
    return [_row(o) for o in session.scalars(select(model).where(*where).order_by(model.id))]


def everything(session: Session, agency_id: str, worker_ref: str, now: int) -> dict[str, Any]:
    """Every row the service holds about this worker file, table by table."""
    w = session.scalars(select(Worker).where(Worker.agency_id == agency_id,
                                             Worker.worker_ref == worker_ref)).one()
    mine = (lambda m: (m.agency_id == agency_id, m.worker_ref == worker_ref))  # noqa: E731
    badges = list(session.scalars(select(Badge).where(Badge.worker_id == w.id)
                                  .order_by(Badge.id)))
    kids = [b.kid for b in badges]
    return {
        "format": "xinka-worker-data", "version": 1, "generated_at": now,
        "agency": agency_id, "worker_ref": worker_ref,
        "left_out": LEFT_OUT,
        "workers": [_row(w)],
        "badges": [_row(b) for b in badges],
        "checkins": _rows(session, Checkin, *mine(Checkin)),
        "taps": _rows(session, Tap, Tap.badge_kid.in_(kids)) if kids else [],
        "attendance": _rows(session, Attendance, *mine(Attendance)),
        "credit_records": _rows(session, CreditRecord, *mine(CreditRecord)),
        "credit_grades": _rows(session, CreditGrade, CreditGrade.worker_id == w.id),
        "reviews": _rows(session, Review, *mine(Review)),
        "complaints": _rows(session, Complaint, *mine(Complaint)),
        "appeals": _rows(session, Appeal, *mine(Appeal)),
        "visits": _rows(session, Visit, *mine(Visit)),
        "disclosures": _rows(session, Disclosure, *mine(Disclosure)),
        "link_codes": _rows(session, LinkCode, *mine(LinkCode)),
        "worker_choices": _rows(session, WorkerChoice, *mine(WorkerChoice)),
        "cancel_requests": _rows(session, CancelRequest, *mine(CancelRequest)),
    }


def _valid_until(badge: Badge) -> int | None:
    if badge.credential is None:
        return None
    try:
        return wire.Credential.parse(badge.credential).exp
    except wire.WireError:
        return None


def page(session: Session, agency_id: str, worker_ref: str, now: int, ctx: grades.Context,
         closes_at: int) -> dict[str, Any]:
    """The worker page's data: the console's worker view of this file (services/console.py),
    and what the worker page adds: the months, who saw it, the choice, the 注销 request."""
    w = session.scalars(select(Worker).where(Worker.agency_id == agency_id,
                                             Worker.worker_ref == worker_ref)).one()
    data = console.worker_page(session, agency_id, w.id, now, ctx)
    by_period = {p["period"]: p for p in data["history"]}
    periods = last_periods(now, ctx.tz, ctx.start_day, PERIODS)
    current = period_of(now, ctx.tz, ctx.start_day)
    scope = links.scope_of(session, agency_id, worker_ref)
    data.update(
        agency=registry.get_agency(session, agency_id),
        badge_rows=[{"serial": b.serial, "state": b.state, "valid_until": _valid_until(b)}
                    for b in data["badges"]],
        months=[{"period": p, "row": by_period.get(p)} for p in periods],
        current_period=current, checked_in_now=current in by_period,
        seen=disclosures.for_worker(session, agency_id, worker_ref),
        scope_names=[n for n in wire.SCOPE_NAMES if n != "agency"],
        shown={n: bool(scope & bit) for n, bit in wire.SCOPE_NAMES.items()},
        cancel_requested=links.cancel_requested(session, agency_id, worker_ref),
        closes_at=closes_at, now=now)
    return data
