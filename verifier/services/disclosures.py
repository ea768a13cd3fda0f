"""The disclosure log: every time a worker's data is shown to someone, one row (the worker's
right to know who saw their data, PIPL arts. 44-45; docs/operator.md "Retention").

What is a disclosure, and its `kind`:
- "status": an employer's phone was shown the badge's status page (`/t/<b64>`, role
  "employer"), or `/api/v1/verify` answered a status or consent tap (role "public", or
  "api:<agency>" when the call carried an API key). Only a tap that was booked counts: a
  replayed, already-used or refused tap showed nothing about the worker and is not recorded
  (nor is a reload of the page by the same browser: the same view).
- "consent": the page of a consent tap showed the profile; `scope` names what it showed
  (SCOPE_SHOWN). A consent tap whose page is red showed only the status: "status".
- "staff": one worker's file read by the agency (console worker page, role
  "staff:<username>"; API worker detail and history, role "api:<agency>") or the bureau
  (person file: a row for each of the person's worker files, role "bureau").
- "export": a bulk read holding the worker (an attendance export or report, the worker list,
  the bureau's list of persons at several agencies):
  one row per worker in it, written by one INSERT … SELECT of the same set (`record_many`).

A row is written in the transaction of the view it records: either both commit or the
request fails and nothing of it is kept (a view is never shown unrecorded). No row carries
anything about the viewer as a person: no address, no browser, no cookie.

Rows leave the log at 注销 (`erase_worker`, from registry.cancel_worker) and after the
retention period (`purge`, the nightly `disclosures-purge`). What leaves is first added to
`disclosure_counts`: per agency, calendar month (UTC) and kind, no worker reference. The
counts of an agency's disclosures are those plus the rows still in the log.
"""
from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timezone
from typing import Any, cast

from sqlalchemy import BigInteger, String, Table, delete, func, insert, literal, literal_column, \
    select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import SelectBase

from host.wire.tap import (SCOPE_ATTENDANCE, SCOPE_CERTIFICATES, SCOPE_CREDIT, SCOPE_HEALTH,
                           SCOPE_INSURANCE)

from ..models import Disclosure, DisclosureCount, Household, Worker

log = logging.getLogger(__name__)

KINDS = ("status", "consent", "staff", "export")
# the scope bits a consent page acts on (services/employer.py _details), in page order; the
# agency bit adds nothing: every page names the agency
SCOPE_SHOWN = ((SCOPE_CERTIFICATES, "certificates"), (SCOPE_HEALTH, "health"),
               (SCOPE_INSURANCE, "insurance"), (SCOPE_CREDIT, "credit"),
               (SCOPE_ATTENDANCE, "attendance"))
ROLE_MAX = 200
_DAY = 86400


def scope_names(scope: int) -> str:
    """"certificates,health,…": the names of the scope bits a consent page showed."""
    return ",".join(name for bit, name in SCOPE_SHOWN if scope & bit)


def _check(kind: str, role: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown disclosure kind {kind!r}")
    if not role:
        raise ValueError("a disclosure needs the viewer's role")
    return role[:ROLE_MAX]


_RECORD = insert(cast(Table, Disclosure.__table__))      # Core on the table, compiled once


def record(session: Session | Connection, agency_id: str, worker_ref: str, at: int, kind: str,
           role: str, scope: str | None = None, token_hash: str | None = None,
           household_id: int | None = None) -> None:
    """One disclosure of one worker's data, in the caller's transaction (a Session, or the
    Connection /verify books its tap on)."""
    session.execute(_RECORD, {"agency_id": agency_id, "worker_ref": worker_ref, "at": at,
                              "kind": kind, "role": _check(kind, role), "scope": scope,
                              "token_hash": token_hash, "household_id": household_id})


def record_many(session: Session, agency_id: str, refs: SelectBase, at: int, kind: str,
                role: str) -> None:
    """One disclosure per worker_ref that `refs` (a select of one column) yields, as a single
    INSERT … SELECT: an export of many workers costs one statement."""
    sub = refs.subquery()
    ref = list(sub.c)[0]
    rows = select(literal(agency_id, String), ref, literal(at, BigInteger),
                  literal(kind, String), literal(_check(kind, role), String))
    session.execute(insert(Disclosure).from_select(
        ["agency_id", "worker_ref", "at", "kind", "role"], rows))


def record_persons(session: Session, person_ids: list[int], at: int, kind: str,
                   role: str) -> None:
    """One disclosure per worker file, at every agency, of these persons (the bureau's
    person file shows them all), as a single INSERT … SELECT."""
    if not person_ids:
        return
    rows = select(Worker.agency_id, Worker.worker_ref, literal(at, BigInteger),
                  literal(kind, String), literal(_check(kind, role), String)) \
        .where(Worker.person_id.in_(person_ids))
    session.execute(insert(Disclosure).from_select(
        ["agency_id", "worker_ref", "at", "kind", "role"], rows))


def visit_confirmed(session: Session, token_hash: str, household_id: int) -> None:
    """The tap whose page was recorded opened or closed a visit: its household's pseudonym
    belongs to that disclosure."""
    session.execute(update(Disclosure).where(Disclosure.token_hash == token_hash,
                                             Disclosure.household_id.is_(None))
                    .values(household_id=household_id))


def for_worker(session: Session, agency_id: str, worker_ref: str,
               limit: int = 100) -> list[dict[str, Any]]:
    """The worker's disclosures, newest first: time, kind, the scope names shown (a consent
    view), the viewer's role, the household pseudonym (a view from a confirmed visit)."""
    rows = session.execute(
        select(Disclosure.at, Disclosure.kind, Disclosure.scope, Disclosure.role,
               Household.pseudonym)
        .outerjoin(Household, Household.id == Disclosure.household_id)
        .where(Disclosure.agency_id == agency_id, Disclosure.worker_ref == worker_ref)
        .order_by(Disclosure.at.desc(), Disclosure.id.desc()).limit(limit))
    return [{"at": at, "kind": kind, "scope": scope.split(",") if scope else None,
             "role": role, "household": pseudonym}
            for at, kind, scope, role, pseudonym in rows]


def counts(session: Session, agency_id: str | None = None) -> list[dict[str, Any]]:
    """The anonymised counts (erased and purged rows), by agency, month and kind."""
    q = select(DisclosureCount).order_by(DisclosureCount.agency_id, DisclosureCount.month,
                                         DisclosureCount.kind)
    if agency_id is not None:
        q = q.where(DisclosureCount.agency_id == agency_id)
    return [{"agency": c.agency_id, "month": c.month, "kind": c.kind, "count": c.count}
            for c in session.scalars(q)]


def _month(day: int) -> str:
    return datetime.fromtimestamp(day * _DAY, timezone.utc).strftime("%Y-%m")


def _fold(session: Session, *where: Any) -> int:
    """Add the rows matching `where` to the counts (grouped per day in SQL, per month
    here); the number of rows counted."""
    day = Disclosure.at // literal_column(str(_DAY), BigInteger)
    acc: Counter[tuple[str, str, str]] = Counter()
    for agency_id, kind, d, n in session.execute(
            select(Disclosure.agency_id, Disclosure.kind, day, func.count())
            .where(*where).group_by(Disclosure.agency_id, Disclosure.kind, day)):
        acc[(agency_id, _month(int(d)), kind)] += n
    mod = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for (agency_id, month, kind), n in sorted(acc.items()):
        ins = mod.insert(DisclosureCount).values(agency_id=agency_id, month=month, kind=kind,
                                                 count=n)
        session.execute(ins.on_conflict_do_update(
            index_elements=["agency_id", "month", "kind"],
            set_={"count": DisclosureCount.count + ins.excluded.count}))
    return sum(acc.values())


def erase_worker(session: Session, agency_id: str, worker_ref: str) -> int:
    """注销: the worker's rows go, their counts stay (module docstring). Rows erased."""
    where = (Disclosure.agency_id == agency_id, Disclosure.worker_ref == worker_ref)
    n = _fold(session, *where)
    session.execute(delete(Disclosure).where(*where))
    return n


def purge(session: Session, now: int, retention_s: int) -> int:
    """Delete the rows older than the retention period, keeping their counts. Rows purged."""
    if retention_s <= 0:
        raise ValueError("the retention period must be positive")
    where = (Disclosure.at < now - retention_s,)
    n = _fold(session, *where)
    session.execute(delete(Disclosure).where(*where))
    if n:
        log.info("%d disclosure(s) older than %d days purged, their counts kept", n,
                 retention_s // _DAY)
    return n
